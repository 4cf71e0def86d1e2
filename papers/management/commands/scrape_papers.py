"""Scrape one day or a range of days of the Hugging Face Daily Papers listing.

    python manage.py scrape_papers --date 2024-08-01
    python manage.py scrape_papers --from 2024-05-27 --to 2024-08-31

Each day is scraped and stored in its own transaction, so Ctrl-C keeps the finished days and
running the same command again is safe (it refreshes counts and adds what is missing).
"""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from papers.ingest import DayResult, backfill, days_between
from papers.models import ScrapeRun


def iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


def summary_line(result: DayResult) -> str:
    run = result.run
    seconds = f"{run.duration.total_seconds():.2f}s"
    if run.status == ScrapeRun.Status.FAILED:
        return f"{run.day} failed  {seconds}  {run.error}"
    line = (
        f"{run.day} {run.status:<6}  {run.source:<6}  {run.total} papers: {run.new} new, "
        f"{run.updated} updated, {run.unchanged} unchanged  {seconds}"
    )
    return line + (f"  ({run.skipped} items skipped)" if run.skipped else "")


class Command(BaseCommand):
    help = "Scrape the Hugging Face Daily Papers listing of a day (--date) or of a range (--from, --to)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=iso_day, help="one day, YYYY-MM-DD")
        parser.add_argument("--from", dest="first", type=iso_day, help="first day of a range, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", type=iso_day, help="last day of the range (included)")
        parser.add_argument(
            "--skip-done", action="store_true", help="skip days that already have a successful (ok) run"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, date: date | None, first: date | None, last: date | None, **options) -> None:
        days = self.chosen_days(date, first, last)
        if options["skip_done"]:
            ok_runs = ScrapeRun.objects.filter(day__in=days, status=ScrapeRun.Status.OK)
            done = set(ok_runs.values_list("day", flat=True))
            days = [day for day in days if day not in done]
        bar = tqdm(
            total=len(days),
            unit="day",
            file=sys.stderr,
            disable=options["no_progress"] or len(days) < 2 or None,  # None: off when not a terminal
        )
        results: list[DayResult] = []

        def report(result: DayResult) -> None:
            results.append(result)
            with tqdm.external_write_mode(file=sys.stderr):  # the line above the bar, not through it
                self.stdout.write(summary_line(result))
            bar.update()

        try:
            backfill(days, on_day=report)
        except KeyboardInterrupt:
            bar.close()
            raise CommandError(
                f"interrupted after {len(results)} of {len(days)} days; the finished days are stored, "
                "run the same command again to go on (--skip-done skips days already scraped)"
            ) from None
        bar.close()
        self.stdout.write(self.totals(results))
        failed = [r.run.day.isoformat() for r in results if r.run.status == ScrapeRun.Status.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} day(s) failed: {', '.join(failed)}")

    def chosen_days(self, day: date | None, first: date | None, last: date | None) -> list[date]:
        if day and (first or last):
            raise CommandError("give either --date or --from/--to, not both")
        if day:
            return [day]
        if not (first and last):
            raise CommandError("give --date YYYY-MM-DD, or both --from and --to")
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}")
        if last > timezone.localdate():
            raise CommandError(f"--to {last} is in the future")
        return days_between(first, last)

    @staticmethod
    def totals(results: list[DayResult]) -> str:
        runs = [r.run for r in results]
        n = {s: sum(1 for r in runs if r.status == s) for s in ScrapeRun.Status.values}
        return (
            f"{len(runs)} days: {n['ok']} ok, {n['empty']} empty, {n['failed']} failed; "
            f"{sum(r.new for r in runs)} new, {sum(r.updated for r in runs)} updated, "
            f"{sum(r.unchanged for r in runs)} unchanged papers"
        )
