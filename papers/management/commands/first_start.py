"""Queue the first fetch when the paper store is empty (run at start-up by `make run` and by
docker compose, after migrate): a worker then loads the last listing days in the background.

    python manage.py first_start           # queue it for a worker
    python manage.py first_start --now     # fetch here, in the foreground
"""

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from papers.first_start import FIRST_DAYS, first_fetch, store_is_empty
from papers.tasks import first_fetch_task


class Command(BaseCommand):
    help = f"If the paper store is empty, load the last {FIRST_DAYS} listing days (queued for a worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="fetch in this process, not in a worker")

    def handle(self, *args, now: bool, **options) -> None:
        if not store_is_empty():
            self.stdout.write("The paper store has papers: no first fetch needed.")
            return
        if now:
            result = first_fetch(timezone.localdate())
            fetched = result.fetched if result else 0
            self.stdout.write(f"First fetch: {fetched} of {FIRST_DAYS} days loaded.")
            return
        first_fetch_task.delay()
        self.stdout.write(
            f"The paper store is empty: the worker loads the last {FIRST_DAYS} listing days now "
            "(progress in its log)."
        )
