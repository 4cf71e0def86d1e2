from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from newsletter.sending.delivery import Counts, send_chunk
from newsletter.sending.editions import build_edition
from newsletter.sending.tick import run_tick


class Command(BaseCommand):
    help = "Run one delivery tick now and print what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=date.fromisoformat, help="Send this listing day's edition (built if missing)."
        )
        parser.add_argument(
            "--now", action="store_true", help="Ignore delivery times: every active reader due it."
        )

    def handle(self, *args, date: date | None, now: bool, **options) -> None:
        edition = None
        if date is not None:
            edition = build_edition(date)
            if edition is None:
                raise CommandError(f"No papers are stored for {date}: nothing to build an edition from.")
            if not edition.is_released:
                raise CommandError(
                    f"The edition of {date} is {edition.status}: release it in the admin first."
                )
        counts = Counts()
        # In-process, chunk after chunk: the counts printed are what was actually sent.
        result = run_tick(
            timezone.now(), lambda chunk: counts.add(send_chunk(chunk)), edition, ignore_time=now
        )
        if result.edition is None:
            self.stdout.write("no edition to send (none released in the last two days)")
            return
        self.stdout.write(
            f"edition {result.edition.listed_on}: due {result.due}, queued {result.queued}, "
            f"sent {counts.sent}, skipped {counts.skipped}, failed {counts.failed}, "
            f"retry {len(counts.retry)}, unknown {result.unknown}"
        )
