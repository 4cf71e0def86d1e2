"""Celery tasks of the paper store: thin wrappers that pick the day, retry and alert."""

import os
import subprocess
import sys
from datetime import date, timedelta
from urllib.parse import quote

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from papers.alerts import alert_failed_run, check_empty_weekday
from papers.first_start import first_fetch
from papers.ingest import scrape_day


def retry_delay(retries: int, retry_after: float | None) -> int:
    """Seconds before the next attempt: the server's Retry-After when it gave one, else
    1, 2, 4, 8... minutes; never more than CELERY_MAX_RETRY_DELAY."""
    delay = retry_after if retry_after is not None else 60 * 2**retries
    return int(min(max(delay, 1), settings.CELERY_MAX_RETRY_DELAY))


# acks_late: scraping a day twice is harmless, losing it to a worker crash is not.
@shared_task(
    name="papers.tasks.scrape_day_task", bind=True, max_retries=4, acks_late=True, ignore_result=True
)
def scrape_day_task(self, day: str | None = None) -> None:
    """Scrape one day (ISO date; today when omitted). A transient failure is retried; a
    final failure is mailed to the curators once."""
    target = date.fromisoformat(day) if day else timezone.localdate()
    result = scrape_day(target)
    if result.error is None:
        return
    if result.error.retryable and self.request.retries < self.max_retries:
        # Pass the day explicitly: a retry after midnight must still scrape the same day.
        raise self.retry(
            kwargs={"day": target.isoformat()},
            countdown=retry_delay(self.request.retries, result.error.retry_after),
        )
    alert_failed_run(result.run)


@shared_task(name="papers.tasks.refresh_recent_days_task", ignore_result=True)
def refresh_recent_days_task(days: int | None = None) -> None:
    """Re-scrape the last few days before today: their upvotes and comments keep moving."""
    today = timezone.localdate()
    for back in range(1, (days or settings.SCRAPE_REFRESH_DAYS) + 1):
        scrape_day_task.delay((today - timedelta(days=back)).isoformat())


@shared_task(name="papers.tasks.first_fetch_task", ignore_result=True)
def first_fetch_task() -> None:
    """The last listing days for an empty store (papers.first_start)."""
    first_fetch(timezone.localdate())


@shared_task(name="papers.tasks.check_empty_weekday_task", ignore_result=True)
def check_empty_weekday_task() -> None:
    check_empty_weekday()


@shared_task(name="papers.tasks.train_topics_task", ignore_result=True, acks_late=True)
def train_topics_task(version_id: int) -> None:
    """Train a topic model into the given row (the console shows its progress). In a process of
    its own: scikit-learn is loaded there, never into this worker, which sends digests too."""
    manage = settings.BASE_DIR / "manage.py"
    command = [sys.executable, str(manage), "train_topics", "--into", str(version_id)]
    # The child uses this worker's database, whatever the environment says (tests use another).
    env = {**os.environ, "DATABASE_URL": database_url()}
    subprocess.run(command, check=True, env=env, timeout=settings.CELERY_TASK_SOFT_TIME_LIMIT)  # noqa: S603


def database_url() -> str:
    """The database this process is connected to, as a DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{quote(db['NAME'], safe='')}"
