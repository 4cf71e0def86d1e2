"""First start: an empty store gets the last listing days (newest first); a store with papers is
left alone; an unreachable Hugging Face is one clear log line with the command to load later."""

import io
import logging
from datetime import date

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from config.celery import app as celery_app
from papers.first_start import LOCK_KEY, first_fetch, listing_days
from papers.models import Paper, ScrapeRun
from tests.papers.conftest import api_body, serve_api
from tests.smtp import free_port

pytestmark = pytest.mark.django_db
FRIDAY = date(2026, 6, 12)
CAPTURES = ["2026-06-12", "2026-01-05", "2025-06-02", "2025-03-05", "2024-05-27", "2024-08-01"]


def serve_week(hf, captures) -> list[date]:
    """The last seven listing days, each answered by the API with one of the real captures."""
    days = listing_days(FRIDAY)
    for n, day in enumerate(days):
        hf.expect_request(f"/papers/date/{day}").respond_with_data("not found", status=404)
        hf.expect_request("/papers", query_string=f"date={day}").respond_with_data("not found", status=404)
        if n < len(CAPTURES):
            serve_api(hf, day, api_body(captures, CAPTURES[n]))
        else:
            serve_api(hf, day, "[]")  # a quiet day: empty, not an error
    return days


def test_listing_days_are_the_last_seven_weekdays_newest_first():
    assert listing_days(FRIDAY) == [date(2026, 6, d) for d in (12, 11, 10, 9, 8, 5, 4)]
    assert listing_days(date(2026, 6, 14))[0] == FRIDAY  # a Sunday starts from Friday


def test_an_empty_store_gets_the_last_seven_listing_days(hf, captures, caplog):
    days = serve_week(hf, captures)
    with caplog.at_level(logging.INFO, logger="papers.first_start"):
        result = first_fetch(FRIDAY)
    assert result is not None and result.fetched == 7 and not result.unreachable
    assert sorted(ScrapeRun.objects.values_list("day", flat=True)) == sorted(days)
    assert Paper.objects.count() > 60
    progress = [r.getMessage() for r in caplog.records]
    assert progress[0].startswith("first fetch: loading the last 7 listing days from http://127.0.0.1")
    assert "first fetch: day 1 of 7, 2026-06-12: ok, 30 new papers" in progress
    assert cache.get(LOCK_KEY) is None  # released


def test_it_is_skipped_when_the_store_has_papers_or_another_fetch_runs(hf, captures):
    cache.add(LOCK_KEY, "running", 60)
    try:
        assert first_fetch(FRIDAY) is None
    finally:
        cache.delete(LOCK_KEY)
    serve_week(hf, captures)
    first_fetch(FRIDAY)
    runs = ScrapeRun.objects.count()
    assert first_fetch(FRIDAY) is None
    assert ScrapeRun.objects.count() == runs  # no second request went out


def test_an_unreachable_hugging_face_is_one_clear_line_and_no_traceback(settings, caplog):
    settings.HF_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.HF_RETRY_BACKOFF = 0.0
    with caplog.at_level(logging.INFO, logger="papers.first_start"):
        result = first_fetch(FRIDAY)
    assert result is not None and result.fetched == 0 and "connection failed" in result.unreachable
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    line = errors[0].getMessage()
    assert f"Hugging Face is not reachable at {settings.HF_BASE_URL}" in line
    assert "python manage.py scrape_papers --from 2026-06-04 --to 2026-06-12" in line
    assert ScrapeRun.objects.count() == 1  # it stopped at the first day


@time_machine.travel("2026-06-12 05:00:00+00:00", tick=False)
def test_the_command_queues_it_only_for_an_empty_store(hf, captures, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the task runs at .delay()
    serve_week(hf, captures)
    out = io.StringIO()
    call_command("first_start", stdout=out)
    assert "the worker loads the last 7 listing days" in out.getvalue()
    assert Paper.objects.exists()
    call_command("first_start", stdout=out)
    assert "The paper store has papers: no first fetch needed." in out.getvalue()
