"""The scrape tasks: which day, retries of transient failures, one alert at the end."""

from datetime import date

import pytest
import time_machine
from django.core import mail

from config.celery import app as celery_app
from papers.models import ScrapeRun
from papers.tasks import refresh_recent_days_task, retry_delay, scrape_day_task
from tests.papers.conftest import PAGE_DAY, serve_api, serve_page, with_props

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = [("Curator", "carol@example.test")]


def test_a_transient_failure_is_retried_then_alerted_once(hf, eager, settings):
    settings.HF_MAX_RETRIES = 0
    hf.expect_request(f"/papers/date/{PAGE_DAY}").respond_with_data("down", status=503)
    serve_api(hf, PAGE_DAY, "down", status=503)
    scrape_day_task.apply(kwargs={"day": PAGE_DAY.isoformat()})
    runs = ScrapeRun.objects.filter(day=PAGE_DAY)
    assert runs.count() == 1 + scrape_day_task.max_retries
    assert set(runs.values_list("status", "retryable")) == {("failed", True)}
    assert len(mail.outbox) == 1
    assert "HTTP 503" in mail.outbox[0].body


def test_a_permanent_failure_is_alerted_without_retrying(hf, eager):
    serve_page(hf, PAGE_DAY, "<html>nothing here</html>")
    serve_api(hf, PAGE_DAY, "nothing here either")
    scrape_day_task.apply(kwargs={"day": PAGE_DAY.isoformat()})
    assert ScrapeRun.objects.filter(day=PAGE_DAY, status="failed").count() == 1
    assert len(mail.outbox) == 1


def test_a_retry_that_succeeds_sends_no_alert(hf, eager, page_html, settings):
    settings.HF_MAX_RETRIES = 0
    hf.expect_ordered_request(f"/papers/date/{PAGE_DAY}").respond_with_data("down", status=503)
    hf.expect_ordered_request("/api/daily_papers").respond_with_data("down", status=503)
    hf.expect_ordered_request(f"/papers/date/{PAGE_DAY}").respond_with_data(page_html)
    scrape_day_task.apply(kwargs={"day": PAGE_DAY.isoformat()})
    assert list(ScrapeRun.objects.order_by("started_at").values_list("status", flat=True)) == ["failed", "ok"]
    assert mail.outbox == []


@time_machine.travel("2024-08-01 09:10:00Z", tick=False)
def test_without_a_day_it_scrapes_today(hf, eager, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    scrape_day_task.apply()
    assert ScrapeRun.objects.get().day == date(2024, 8, 1)


@time_machine.travel("2024-08-04 03:40:00Z", tick=False)
def test_the_refresh_rescrapes_the_last_days(hf, eager, page_html, settings):
    settings.SCRAPE_REFRESH_DAYS = 3
    for day in (date(2024, 8, 1), date(2024, 8, 2), date(2024, 8, 3)):
        html = with_props(page_html, lambda p, day=day: {**p, "date": f"{day}T00:00:00.000Z"})
        serve_page(hf, day, html)
    refresh_recent_days_task.apply()
    assert sorted(ScrapeRun.objects.values_list("day", "status")) == [
        (date(2024, 8, 1), "ok"),
        (date(2024, 8, 2), "ok"),
        (date(2024, 8, 3), "ok"),
    ]


def test_the_retry_delay_follows_retry_after_and_is_capped(settings):
    settings.CELERY_MAX_RETRY_DELAY = 1800
    assert [retry_delay(n, None) for n in range(4)] == [60, 120, 240, 480]
    assert retry_delay(0, 90.0) == 90
    assert retry_delay(0, 86400.0) == 1800
