"""Scrape a day into the paper store: fetch the listing, upsert the papers, record the run.

Upsert rules, keyed by arXiv id: a new paper is created with everything the listing gives;
a known paper gets its latest upvotes and comment count (and when they were observed), this
day added to its listing dates, and only the fields a poorer earlier scrape left empty filled
in. Nothing else a stored paper holds is ever overwritten.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from papers.classifier.store import classify
from papers.models import Paper, PaperListing, ScrapeRun
from papers.normalize import ScrapedPaper
from papers.sources.hf import Listing, ScrapeFailed, fetch_listing, page_path
from papers.sources.http import HttpClient

logger = logging.getLogger(__name__)

# Fields a later scrape may fill when an earlier one (the bare cards) left them empty.
FILLABLE_FIELDS = (
    "abstract",
    "authors",
    "github_repo",
    "project_page",
    "thumbnail",
    "ai_summary",
    "ai_keywords",
    "submitted_by",
)
COUNT_FIELDS = ("upvotes", "num_comments")
UPDATED_FIELDS = [*COUNT_FIELDS, *FILLABLE_FIELDS, "first_listed_on", "counts_observed_at", "updated_at"]


@dataclass
class StoreCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class DayResult:
    run: ScrapeRun
    error: ScrapeFailed | None = None


def refresh_paper(paper: Paper, scraped: ScrapedPaper, day: date) -> bool:
    """Apply a new sighting of a stored paper; True when anything but the observation time changed."""
    changed = False
    for name in COUNT_FIELDS:
        if getattr(paper, name) != getattr(scraped, name):
            setattr(paper, name, getattr(scraped, name))
            changed = True
    fresh = scraped.store_fields()
    for name in FILLABLE_FIELDS:
        if not getattr(paper, name) and fresh[name]:
            setattr(paper, name, fresh[name])
            changed = True
    if day < paper.first_listed_on:  # a backfill found an earlier listing
        paper.first_listed_on = day
        changed = True
    return changed


def store_listing(listing: Listing, observed_at: datetime) -> StoreCounts:
    """Upsert the listing's papers and its listing dates in one transaction, in a fixed
    number of queries whatever the number of papers."""
    day = listing.day
    scraped = {paper.arxiv_id: paper for paper in listing.papers}
    counts = StoreCounts()
    if not scraped:
        return counts
    with transaction.atomic():
        stored = Paper.objects.in_bulk(list(scraped), field_name="arxiv_id")
        already_listed = set(
            PaperListing.objects.filter(listed_on=day, paper__arxiv_id__in=list(stored)).values_list(
                "paper__arxiv_id", flat=True
            )
        )
        fresh = [
            Paper(arxiv_id=key, first_listed_on=day, counts_observed_at=observed_at, **paper.store_fields())
            for key, paper in scraped.items()
            if key not in stored
        ]
        # ignore_conflicts: a concurrent scrape of the same day may insert the same paper first.
        Paper.objects.bulk_create(fresh, ignore_conflicts=True)
        counts.new = len(fresh)
        for arxiv_id, paper in stored.items():
            changed = refresh_paper(paper, scraped[arxiv_id], day)
            paper.counts_observed_at = observed_at
            if changed or arxiv_id not in already_listed:
                paper.updated_at = observed_at  # bulk_update leaves auto_now fields alone
                counts.updated += 1
            else:
                counts.unchanged += 1
        if stored:
            Paper.objects.bulk_update(stored.values(), UPDATED_FIELDS)
        ids = dict(Paper.objects.filter(arxiv_id__in=list(scraped)).values_list("arxiv_id", "id"))
        PaperListing.objects.bulk_create(
            [PaperListing(paper_id=ids[a], listed_on=day) for a in scraped if a not in already_listed],
            ignore_conflicts=True,
        )
        # Topics are decided here, once per sighting, never while sending.
        classify(Paper.objects.filter(pk__in=ids.values()))
    return counts


def record_run(day: date, url: str, started_at: datetime, started: float, **fields: object) -> ScrapeRun:
    return ScrapeRun.objects.create(
        day=day,
        url=url[:500],
        started_at=started_at,
        duration=timedelta(seconds=time.monotonic() - started),
        **fields,
    )


def scrape_day(day: date, client: HttpClient | None = None) -> DayResult:
    """Scrape `day` into the store and record a ScrapeRun. A fetch or parse failure is
    recorded and returned, the stored papers untouched; anything unexpected is recorded and raised."""
    client = client or HttpClient()
    started_at, started = timezone.now(), time.monotonic()
    try:
        listing = fetch_listing(day, client)
        counts = store_listing(listing, observed_at=timezone.now())
    except ScrapeFailed as error:
        logger.warning("scraping %s failed: %s", day, error)
        run = record_run(
            day,
            error.url,
            started_at,
            started,
            status=ScrapeRun.Status.FAILED,
            error=str(error),
            retryable=error.retryable,
        )
        return DayResult(run, error)
    except Exception as error:
        record_run(
            day,
            client.url(page_path(day)),
            started_at,
            started,
            status=ScrapeRun.Status.FAILED,
            error=f"{error.__class__.__name__}: {error}",
        )
        raise
    run = record_run(
        day,
        listing.url,
        started_at,
        started,
        source=listing.source,
        status=ScrapeRun.Status.OK if listing.papers else ScrapeRun.Status.EMPTY,
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        skipped=len(listing.skipped),
        warnings="\n".join([*listing.warnings, *listing.skipped]),
    )
    return DayResult(run)


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def backfill(
    days: Iterable[date],
    client: HttpClient | None = None,
    on_day: Callable[[DayResult], None] = lambda result: None,
) -> list[DayResult]:
    """Scrape each day in turn (one HTTP session, one transaction per day, so an interrupted
    backfill keeps the days it finished and can simply be run again)."""
    client = client or HttpClient()
    results = []
    for day in days:
        result = scrape_day(day, client)
        results.append(result)
        on_day(result)
    return results
