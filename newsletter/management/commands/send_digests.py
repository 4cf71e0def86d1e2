from datetime import UTC, date, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from newsletter.models import Edition
from newsletter.sending.delivery import Counts, send_in_process
from newsletter.sending.editions import build_edition
from newsletter.sending.tick import retry_waiting, run_tick, tick_retries_at


class Command(BaseCommand):
    help = "Run one delivery tick now, retry what is waiting, and print what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=date.fromisoformat, help="Send this listing day's edition (built if missing)."
        )
        parser.add_argument(
            "--now", action="store_true", help="Ignore delivery times: every active reader due it."
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=2,
            help="Rounds of sending the edition's waiting digests again after the tick: those a "
            "transient failure (mail server down) put back, now or in an earlier run (default 2; "
            "0 leaves them to a worker or a later tick).",
        )
        parser.add_argument(
            "--retry-pause",
            type=float,
            default=10.0,
            help="Seconds to wait before a round that follows a transient failure (default 10).",
        )

    def handle(
        self, *args, date: date | None, now: bool, retries: int, retry_pause: float, **options
    ) -> None:
        if retries < 0 or retry_pause < 0:
            raise CommandError("--retries and --retry-pause cannot be negative.")
        edition = released_edition(date) if date is not None else None
        counts = Counts()
        # In-process, chunk after chunk: the counts printed are what was actually sent.
        result = run_tick(
            timezone.now(), lambda chunk: counts.add(send_in_process(chunk)), edition, ignore_time=now
        )
        if result.edition is None:
            self.stdout.write("no edition to send (none released in the last two days)")
            return
        retry_waiting(result.edition, send_in_process, counts, retries, retry_pause)
        # Operators' scripts parse this line: keep its names and order.
        self.stdout.write(
            f"edition {result.edition.listed_on}: due {result.due}, queued {result.queued}, "
            f"sent {counts.sent}, skipped {counts.skipped}, failed {counts.failed}, "
            f"retry {len(counts.retry)}, unknown {result.unknown + counts.unknown}"
        )
        if counts.retry:
            self.stderr.write(still_waiting(len(counts.retry), tick_retries_at(result.edition)))


def released_edition(day: date) -> Edition:
    edition = build_edition(day)
    if edition is None:
        raise CommandError(f"No papers are stored for {day}: nothing to build an edition from.")
    if not edition.is_released:
        raise CommandError(f"The edition of {day} is {edition.status}: release it in the admin first.")
    return edition


def still_waiting(waiting: int, tick_at: datetime | None) -> str:
    """The line for what is left pending, and who sends it: this command again, or a tick once
    it takes the rows as lost (newsletter.sending.tick.retry_lost_after)."""
    digests, them = ("digest still waits", "it") if waiting == 1 else ("digests still wait", "them")
    when = f"from {tick_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if tick_at else "at its next run"
    return (
        f"{waiting} {digests} after a transient failure (is the mail server down?): "
        f"rerun this command to retry {them} now, or a tick retries {them} {when}."
    )
