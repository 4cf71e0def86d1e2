"""The scraper under hostile input, through the real store: mutated captures of the real
listing page, bodies over the size cap and answers that trickle past the timeouts. Whatever
arrives, what is stored is whole and clean, or nothing is stored. Cases per property: the
`fuzz` profile (normal suite) or `long` (HYPOTHESIS_PROFILE=long, `make fuzz`: 10,000)."""

import time
import unicodedata
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from werkzeug import Response

from papers.ingest import scrape_day, store_listing
from papers.models import Paper, ScrapeRun
from papers.normalize import canonical_arxiv_id
from papers.sources.hf import ListingParseError, parse_listing_page
from tests.papers.conftest import HF_FIXTURES, PAGE_DAY, mutate_page, require_captures

pytestmark = pytest.mark.django_db

PAGE = (HF_FIXTURES / "html" / f"{PAGE_DAY}.html").read_text(encoding="utf-8") if HF_FIXTURES.is_dir() else ""


@pytest.fixture(autouse=True)
def _captures():
    require_captures()


def assert_whole_and_clean(paper: Paper) -> None:
    assert canonical_arxiv_id(paper.arxiv_id) == paper.arxiv_id
    assert paper.title and paper.title == " ".join(paper.title.split()), paper.title
    for text in [paper.title, paper.abstract, paper.ai_summary, *paper.authors]:
        assert isinstance(text, str)
        assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text), repr(text[:80])
    assert all(name and name == name.strip() for name in paper.authors)
    assert paper.upvotes >= 0 and paper.num_comments >= 0
    assert paper.listings.filter(listed_on=PAGE_DAY).exists()


@given(data=st.data())
def test_a_mutated_real_page_stores_whole_clean_papers_or_nothing(data):
    html = mutate_page(data, PAGE)
    with transaction.atomic():
        try:
            listing = parse_listing_page(html, PAGE_DAY)
        except ListingParseError as error:
            assert str(error)
            assert not Paper.objects.exists()
        else:
            store_listing(listing, observed_at=timezone.now())
            stored = list(Paper.objects.prefetch_related("listings"))
            assert len(stored) == len({p.arxiv_id for p in listing.papers})
            for paper in stored:
                assert_whole_and_clean(paper)
        transaction.set_rollback(True)  # each case starts from an empty store


def existing_paper() -> Paper:
    return Paper.objects.create(
        arxiv_id="2407.00001", title="Kept as it was", upvotes=7, first_listed_on=date(2024, 7, 1)
    )


def assert_nothing_changed(before: Paper) -> None:
    assert list(Paper.objects.values_list("arxiv_id", "title", "upvotes")) == [
        (before.arxiv_id, before.title, before.upvotes)
    ]


def test_a_page_over_the_size_cap_is_refused_and_nothing_is_stored(hf, settings):
    settings.HF_MAX_RESPONSE_BYTES = 64 * 1024
    settings.HF_MAX_RETRIES = 0
    before = existing_paper()
    # The real page, repeated far past the cap, streamed so no Content-Length gives it away.
    big = PAGE * 20
    hf.expect_request(f"/papers/date/{PAGE_DAY}").respond_with_response(
        Response((big[i : i + 8192] for i in range(0, len(big), 8192)), mimetype="text/html")
    )
    hf.expect_request("/api/daily_papers").respond_with_data(
        "x" * (256 * 1024), content_type="application/json"
    )
    result = scrape_day(PAGE_DAY)
    assert result.run.status == ScrapeRun.Status.FAILED
    assert "exceeds the 65536-byte cap" in result.run.error, result.run.error
    assert_nothing_changed(before)


def trickle(body: str, seconds: float):
    """The body in small pieces spread over `seconds`: each piece is on time, the whole is not."""
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    for piece in pieces:
        yield piece
        time.sleep(seconds / len(pieces))


def test_an_answer_trickling_past_the_total_timeout_is_cut_and_nothing_is_stored(hf, settings):
    settings.HF_TOTAL_TIMEOUT = 1.0
    settings.HF_READ_TIMEOUT = 1.0
    settings.HF_MAX_RETRIES = 0
    before = existing_paper()
    hf.expect_request(f"/papers/date/{PAGE_DAY}").respond_with_response(
        Response(trickle(PAGE, 3.0), mimetype="text/html")
    )
    hf.expect_request("/api/daily_papers").respond_with_response(
        Response(trickle('{"x": "' + "y" * 40_000 + '"}', 3.0), mimetype="application/json")
    )
    started = time.monotonic()
    result = scrape_day(PAGE_DAY)
    assert time.monotonic() - started < 5.0  # cut at the total timeout, not when the server finished
    assert result.run.status == ScrapeRun.Status.FAILED
    assert_nothing_changed(before)
