"""A site with papers on first start: when the store is empty, fetch the last few listing days
(the existing ingestion, one day at a time, newest first so the landing page fills at once).

Queued by `python manage.py first_start` (which `make run` and docker compose run at start-up)
and run by a worker. Skipped when the store has papers; safe to queue twice (a lock, and
ingestion is idempotent). When Hugging Face cannot be reached it says so in one log line,
with the command to load the days later, and stops: the site stays up, empty.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache

from papers.ingest import scrape_day
from papers.models import Paper, ScrapeRun
from papers.sources.http import HttpClient

logger = logging.getLogger(__name__)

FIRST_DAYS = 7
LOCK_KEY = "papers.first-fetch"
LOCK_SECONDS = 15 * 60


def listing_days(today: date, count: int = FIRST_DAYS) -> list[date]:
    """The last `count` weekdays up to today, newest first (the listing is a weekday one)."""
    days, day = [], today
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days


def load_command(days: list[date]) -> str:
    return f"python manage.py scrape_papers --from {min(days)} --to {max(days)}"


def store_is_empty() -> bool:
    return not Paper.objects.exists()


@dataclass(frozen=True)
class FirstFetch:
    fetched: int  # days stored (ok or empty)
    unreachable: str = ""  # why Hugging Face could not be reached, when it could not


def first_fetch(today: date) -> FirstFetch | None:
    """Fetch the first days if the store is empty and no other fetch runs; None if skipped."""
    if not store_is_empty():
        logger.info("first fetch skipped: the paper store already has papers")
        return None
    if not cache.add(LOCK_KEY, today.isoformat(), LOCK_SECONDS):
        logger.info("first fetch skipped: another one is running")
        return None
    try:
        return _fetch_days(listing_days(today))
    finally:
        cache.delete(LOCK_KEY)


def _fetch_days(days: list[date]) -> FirstFetch:
    client = HttpClient()
    logger.info("first fetch: loading the last %d listing days from %s", len(days), settings.HF_BASE_URL)
    for n, day in enumerate(days, start=1):
        result = scrape_day(day, client)
        run = result.run
        if result.error is not None and result.error.unreachable:
            # No HTTP answer at all (refused, DNS, timeout): the other days would fail the same way.
            logger.error(
                "first fetch: Hugging Face is not reachable at %s (%s); the site runs without papers. "
                "Load them later with: %s",
                settings.HF_BASE_URL,
                run.error,
                load_command(days),
            )
            return FirstFetch(n - 1, unreachable=run.error)
        logger.info(
            "first fetch: day %d of %d, %s: %s, %d new papers", n, len(days), day, run.status, run.new
        )
    return FirstFetch(len(days))


def first_fetch_failure() -> ScrapeRun | None:
    """The failed run that left the store empty, for the landing page's note to the operator."""
    if not store_is_empty():
        return None
    last = ScrapeRun.objects.order_by("-started_at").first()
    return last if last is not None and last.status == ScrapeRun.Status.FAILED else None
