"""End to end: a real Celery worker runs the scrape task against a local server holding the
real captures at the real paths, and stores the papers (PostgreSQL and Redis in CI)."""

from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from papers.models import Paper, PaperListing, ScrapeRun
from papers.tasks import scrape_day_task
from tests.papers.conftest import PAGE_DAY, api_body, serve_api, serve_page, with_props
from tests.services import wait_for

API_DAYS = {"2024-05-27": 13, "2025-03-05": 12, "2025-06-02": 20, "2026-01-05": 11, "2026-06-12": 30}
FIELDS = [
    f.attname
    for f in Paper._meta.fields
    if f.name not in ("upvotes", "num_comments", "counts_observed_at", "updated_at")
]


def serve_captures(hf, captures, page_html: str) -> None:
    serve_page(hf, PAGE_DAY, page_html)
    serve_api(hf, PAGE_DAY, api_body(captures, PAGE_DAY))
    for day in API_DAYS:
        # No page capture for these days: the page is "not found" and the API takes over.
        hf.expect_request(f"/papers/date/{day}").respond_with_data("not found", status=404)
        hf.expect_request("/papers", query_string=f"date={day}").respond_with_data("not found", status=404)
        serve_api(hf, date.fromisoformat(day), api_body(captures, day))


def bump_votes(props):
    for item in props["dailyPapers"]:
        item["paper"]["upvotes"] += 1
    props["dailyPapers"][0]["numComments"] += 1
    return props


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_scrapes_the_captures_and_a_rerun_changes_only_counts(hf, captures, page_html):
    serve_captures(hf, captures, page_html)
    days = [PAGE_DAY.isoformat(), *API_DAYS]
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        for day in days:
            scrape_day_task.delay(day)
        assert wait_for(lambda: ScrapeRun.objects.count() == len(days), timeout=60)

        runs = {r.day.isoformat(): r for r in ScrapeRun.objects.all()}
        assert {d: (r.status, r.source, r.new) for d, r in runs.items()} == {
            PAGE_DAY.isoformat(): ("ok", "island", 13),
            **{d: ("ok", "api", n) for d, n in API_DAYS.items()},
        }
        assert Paper.objects.count() == 13 + sum(API_DAYS.values())
        assert PaperListing.objects.count() == Paper.objects.count()
        llama = Paper.objects.get(arxiv_id="2407.21783")
        assert (llama.title, llama.upvotes, len(llama.authors)) == ("The Llama 3 Herd of Models", 94, 533)

        before = {p["arxiv_id"]: p for p in Paper.objects.values()}
        hf.clear()
        serve_page(hf, PAGE_DAY, with_props(page_html, bump_votes))
        scrape_day_task.delay(PAGE_DAY.isoformat())
        assert wait_for(lambda: ScrapeRun.objects.count() == len(days) + 1, timeout=60)

    second = ScrapeRun.objects.order_by("-started_at").first()
    assert (second.status, second.new, second.updated, second.unchanged) == ("ok", 0, 13, 0)
    after = {p["arxiv_id"]: p for p in Paper.objects.values()}
    assert after.keys() == before.keys()
    for arxiv_id, row in after.items():
        old = before[arxiv_id]
        assert {f: row[f] for f in FIELDS} == {f: old[f] for f in FIELDS}
        if row["first_listed_on"] == PAGE_DAY:
            assert row["upvotes"] == old["upvotes"] + 1
        else:
            assert (row["upvotes"], row["num_comments"]) == (old["upvotes"], old["num_comments"])
    assert after["2407.21783"]["num_comments"] == before["2407.21783"]["num_comments"] + 1
