"""Scraping a day into the store: upsert by arXiv id, fallbacks, failures that touch nothing."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from papers.ingest import scrape_day, store_listing
from papers.models import Paper, PaperListing, ScrapeRun
from papers.normalize import ScrapedPaper
from papers.sources.hf import Listing
from tests.papers.conftest import PAGE_DAY, api_body, serve_api, serve_page, with_props

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, dict]:
    return {
        p["arxiv_id"]: p
        for p in Paper.objects.values(
            "arxiv_id",
            "title",
            "abstract",
            "authors",
            "upvotes",
            "num_comments",
            "first_listed_on",
            "github_repo",
            "project_page",
            "thumbnail",
            "ai_summary",
            "ai_keywords",
            "submitted_by",
        )
    }


def bump_votes(props):
    for item in props["dailyPapers"]:
        item["paper"]["upvotes"] += 10
        item["paper"]["title"] = "Changed title " + item["paper"]["title"]  # must not overwrite
    props["dailyPapers"][0]["numComments"] = 42
    return props


def test_it_stores_a_day_from_the_page(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    result = scrape_day(PAGE_DAY)
    run = result.run
    assert result.error is None
    assert (run.status, run.source, run.new, run.updated, run.unchanged) == ("ok", "island", 13, 0, 0)
    assert run.url == hf.url_for(f"/papers/date/{PAGE_DAY}")
    assert Paper.objects.count() == 13
    llama = Paper.objects.get(arxiv_id="2407.21783")
    assert (llama.title, llama.upvotes, llama.num_comments, llama.first_listed_on) == (
        "The Llama 3 Herd of Models",
        94,
        5,
        PAGE_DAY,
    )
    assert len(llama.authors) == 533
    assert llama.counts_observed_at is not None
    assert list(llama.listings.values_list("listed_on", flat=True)) == [PAGE_DAY]


def test_scraping_the_same_day_again_changes_only_upvotes_and_comments(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    scrape_day(PAGE_DAY)
    before = snapshot()
    observed = Paper.objects.get(arxiv_id="2407.21783").counts_observed_at
    hf.clear()
    serve_page(hf, PAGE_DAY, with_props(page_html, bump_votes))
    run = scrape_day(PAGE_DAY).run
    after = snapshot()
    assert (run.new, run.updated, run.unchanged) == (0, 13, 0)
    for arxiv_id, row in after.items():
        assert row["upvotes"] == before[arxiv_id]["upvotes"] + 10
        assert {k: v for k, v in row.items() if k not in ("upvotes", "num_comments")} == {
            k: v for k, v in before[arxiv_id].items() if k not in ("upvotes", "num_comments")
        }
    assert after["2407.21783"]["num_comments"] == 42
    assert Paper.objects.get(arxiv_id="2407.21783").counts_observed_at > observed
    assert PaperListing.objects.count() == 13


def test_an_unchanged_rescrape_counts_as_unchanged(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    scrape_day(PAGE_DAY)
    run = scrape_day(PAGE_DAY).run
    assert (run.new, run.updated, run.unchanged) == (0, 0, 13)


def test_a_paper_listed_on_two_days_is_one_row_with_two_dates(hf, page_html):
    later = PAGE_DAY + timedelta(days=1)
    serve_page(hf, later, with_props(page_html, lambda p: {**p, "date": f"{later}T00:00:00.000Z"}))
    serve_page(hf, PAGE_DAY, page_html)
    scrape_day(later)
    run = scrape_day(PAGE_DAY).run  # a backfill reaching back finds the earlier listing
    assert (run.new, run.updated) == (0, 13)
    llama = Paper.objects.get(arxiv_id="2407.21783")
    assert sorted(llama.listings.values_list("listed_on", flat=True)) == [PAGE_DAY, later]
    assert llama.first_listed_on == PAGE_DAY
    assert Paper.objects.count() == 13


def test_cards_only_papers_are_completed_from_the_api(hf, captures, page_html):
    serve_page(hf, PAGE_DAY, page_html.replace('data-target="DailyPapers"', 'data-target="Gone"'))
    serve_api(hf, PAGE_DAY, api_body(captures, PAGE_DAY))
    run = scrape_day(PAGE_DAY).run
    assert (run.status, run.source, run.new) == ("ok", "cards", 13)
    llama = Paper.objects.get(arxiv_id="2407.21783")
    assert (llama.upvotes, len(llama.authors)) == (94, 533)  # the page's counts, the API's authors
    assert llama.abstract.startswith("Modern artificial intelligence")
    # The two papers added after the API capture stay title-only, and the run says so.
    assert Paper.objects.get(arxiv_id="2404.01300").abstract == ""
    assert "2 papers listed by title only" in run.warnings


def test_a_later_scrape_fills_what_the_cards_left_empty(hf, captures, page_html):
    serve_page(hf, PAGE_DAY, page_html.replace('data-target="DailyPapers"', 'data-target="Gone"'))
    serve_api(hf, PAGE_DAY, b"[]")
    scrape_day(PAGE_DAY)
    assert Paper.objects.get(arxiv_id="2404.01300").abstract == ""
    hf.clear()
    serve_page(hf, PAGE_DAY, page_html)
    run = scrape_day(PAGE_DAY).run
    nerf = Paper.objects.get(arxiv_id="2404.01300")
    assert nerf.abstract and nerf.authors
    assert run.updated == 13


def test_an_unreadable_page_falls_back_to_the_api(hf, captures):
    serve_page(hf, PAGE_DAY, "<html><body>Something went wrong</body></html>")
    serve_api(hf, PAGE_DAY, api_body(captures, PAGE_DAY))
    run = scrape_day(PAGE_DAY).run
    assert (run.status, run.source, run.new) == ("ok", "api", 11)
    assert 'no element with data-target="DailyPapers"' in run.warnings
    assert run.url.endswith(f"/api/daily_papers?date={PAGE_DAY}")


def test_a_page_of_another_day_falls_back_to_the_api(hf, captures, page_html):
    day = date(2024, 8, 2)
    serve_page(hf, day, page_html)  # e.g. redirected to the latest listing
    serve_api(hf, day, b"[]")
    run = scrape_day(day).run
    assert (run.status, run.source) == ("empty", "api")
    assert "the page shows 2024-08-01, not 2024-08-02" in run.warnings
    assert Paper.objects.count() == 0


def test_the_query_form_of_the_url_is_tried_when_the_path_is_unknown(hf, page_html):
    hf.expect_request(f"/papers/date/{PAGE_DAY}").respond_with_data("not found", status=404)
    hf.expect_request("/papers", query_string=f"date={PAGE_DAY}").respond_with_data(page_html)
    run = scrape_day(PAGE_DAY).run
    assert (run.status, run.source, run.new) == ("ok", "island", 13)


def test_a_weekend_is_empty_not_failed(hf, page_html):
    saturday = date(2024, 8, 3)
    serve_page(hf, saturday, with_props(page_html, lambda p: {**p, "date": f"{saturday}", "dailyPapers": []}))
    result = scrape_day(saturday)
    assert result.error is None
    assert (result.run.status, result.run.total) == ("empty", 0)


@pytest.mark.parametrize(
    ("page", "api", "retryable", "message"),
    [
        ((500, "oops"), (500, "oops"), True, "HTTP 500"),
        ((200, "<html>garbage</html>"), (200, "not json"), False, "the API answer is not JSON"),
        ((200, ""), (404, ""), False, "the page is empty"),
        ((429, ""), (200, '{"error": "rate limited"}'), True, "is dict, not a list"),
    ],
)
def test_a_failed_day_is_recorded_and_stored_papers_are_untouched(
    hf, page_html, page, api, retryable, message
):
    serve_page(hf, PAGE_DAY, page_html)
    scrape_day(PAGE_DAY)
    before = snapshot()
    hf.clear()
    serve_page(hf, PAGE_DAY, page[1], status=page[0])
    serve_api(hf, PAGE_DAY, api[1], status=api[0])
    result = scrape_day(PAGE_DAY)
    run = result.run
    assert run.status == "failed" and result.error is not None
    assert message in run.error
    assert run.retryable is retryable
    assert run.total == 0
    assert snapshot() == before
    assert ScrapeRun.objects.filter(status="failed").count() == 1


@pytest.mark.parametrize("size", [5, 40])
def test_storing_takes_the_same_number_of_queries_for_any_day_size(django_assert_num_queries, size):
    def listing(day: date, votes: int) -> Listing:
        papers = [ScrapedPaper(f"2407.{10000 + i}", f"Paper {i}", upvotes=votes) for i in range(size)]
        return Listing(day, "api", "http://127.0.0.1/x", papers)

    # savepoint, select papers, insert papers, select ids, insert listings, then the topics
    # (which model is in use, select the papers, one update of their scores), release
    with django_assert_num_queries(9):
        store_listing(listing(PAGE_DAY, 1), timezone.now())
    # all known, listed on a second day: + select listings, and an update instead of the insert
    with django_assert_num_queries(10):
        store_listing(listing(PAGE_DAY + timedelta(days=1), 2), timezone.now())
    assert set(Paper.objects.values_list("upvotes", flat=True)) == {2}
    assert PaperListing.objects.count() == 2 * size


@time_machine.travel("2024-08-01 12:00:00Z", tick=False)
def test_the_run_records_when_and_how_long(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    run = scrape_day(PAGE_DAY).run
    assert run.started_at == timezone.now()
    assert run.duration >= timedelta(0)
