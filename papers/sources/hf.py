"""The Hugging Face Daily Papers listing: where it lives, how to read it, how to fetch it.

Three ways in, in order of preference:
1. `island`: the JSON in the `data-props` attribute of the element with
   `data-target="DailyPapers"`, which holds every field (2024 and 2026 props shapes);
2. `cards`: the server-rendered cards (`h3 > a[href="/papers/<id>"]`), which only give the id,
   title and counts, so the API fills in the rest;
3. `api`: `/api/daily_papers?date=D`, when the page cannot be fetched or read.
A page whose structure is not recognised raises ListingParseError naming what was missing;
it is never read as "0 papers".
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, SoupStrainer
from bs4.element import Tag

from papers.normalize import (
    InvalidArxivId,
    ScrapedPaper,
    canonical_arxiv_id,
    clean_count,
    clean_names,
    clean_text,
    clean_url,
)
from papers.sources.http import FetchError, HttpClient

ISLAND = "island"
CARDS = "cards"
API = "api"

ISLAND_ATTRS = {"data-target": "DailyPapers"}
_PAPER_PATH = re.compile(r"/papers/(?P<id>[^/?#]+)")


class ListingParseError(ValueError):
    """The page or API body is not a listing we recognise; the message says what was missing."""


class WrongDay(ListingParseError):
    """A valid listing, but of another day or period (the site redirected or the layout moved)."""


class InvalidItem(ValueError):
    """One listing item cannot be read; the others still can."""


@dataclass
class Listing:
    day: date
    source: str
    url: str
    papers: list[ScrapedPaper]
    # Why items were left out (an unreadable id, no title); kept on the ScrapeRun.
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class ScrapeFailed(Exception):
    """Neither the page nor the API gave a listing. Retryable when one failure was transient."""

    def __init__(self, url: str, errors: list[Exception]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.url = url
        self.retryable = any(getattr(e, "retryable", False) for e in errors)
        self.unreachable = bool(errors) and all(getattr(e, "unreachable", False) for e in errors)
        waits = [e.retry_after for e in errors if getattr(e, "retry_after", None) is not None]
        self.retry_after = max(waits) if waits else None


def page_path(day: date) -> str:
    return f"/papers/date/{day.isoformat()}"


def page_query_path(day: date) -> str:
    return f"/papers?date={day.isoformat()}"


def api_path(day: date) -> str:
    return f"/api/daily_papers?date={day.isoformat()}"


# --- Items (the same shape in the island and the API) ---------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _submitter(item: dict, paper: dict) -> str:
    for who in (_dict(item.get("submittedBy")), _dict(paper.get("submittedOnDailyBy"))):
        name = clean_text(who.get("name") or who.get("user"))
        if name:
            return name
    return ""


def paper_from_item(item: Any) -> ScrapedPaper:
    """One API/island item -> ScrapedPaper. Raises InvalidItem when it has no usable id or title."""
    if not isinstance(item, dict):
        raise InvalidItem(f"item is {type(item).__name__}, not an object")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise InvalidItem("item has no 'paper' object")
    try:
        arxiv_id = canonical_arxiv_id(paper.get("id"))
    except InvalidArxivId as error:
        raise InvalidItem(str(error)) from error
    title = clean_text(paper.get("title")) or clean_text(item.get("title"))
    if not title:
        raise InvalidItem(f"{arxiv_id} has no title")
    authors = paper.get("authors")
    return ScrapedPaper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=clean_text(paper.get("summary")) or clean_text(item.get("summary")),
        authors=[
            name
            for author in (authors if isinstance(authors, list) else [])
            if isinstance(author, dict)
            and author.get("hidden") is not True
            and (name := clean_text(author.get("name")))
        ],
        github_repo=clean_url(paper.get("githubRepo")),
        project_page=clean_url(paper.get("projectPage")),
        thumbnail=clean_url(item.get("thumbnail")),
        upvotes=clean_count(paper.get("upvotes")),
        num_comments=clean_count(item.get("numComments")),
        ai_summary=clean_text(paper.get("ai_summary")),
        ai_keywords=clean_names(paper.get("ai_keywords")),
        submitted_by=_submitter(item, paper),
    )


def listing_from_items(items: Any, day: date, source: str, url: str, where: str) -> Listing:
    """Items -> Listing, skipping unreadable items but failing when none can be read."""
    if not isinstance(items, list):
        raise ListingParseError(f"{where} is {type(items).__name__}, not a list of papers")
    papers: dict[str, ScrapedPaper] = {}
    skipped: list[str] = []
    for index, item in enumerate(items):
        try:
            paper = paper_from_item(item)
        except InvalidItem as error:
            skipped.append(f"item {index}: {error}")
            continue
        papers.setdefault(paper.arxiv_id, paper)
    if items and not papers:
        raise ListingParseError(f"none of the {len(items)} items in {where} is readable ({skipped[0]})")
    return Listing(day=day, source=source, url=url, papers=list(papers.values()), skipped=skipped)


# --- The page ------------------------------------------------------------------------------


def _props_day(props: dict) -> date | None:
    """The day a page shows: 2024 pages say `date: "2024-08-01T00:00:00.000Z"`, 2026 pages
    `dateString: "2026-06-12"` with `periodType: "day"`."""
    for key in ("dateString", "date"):
        value = props.get(key)
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def parse_island(element: Tag, day: date, url: str) -> Listing:
    raw = element.get("data-props")
    if not isinstance(raw, str):
        raise ListingParseError('the element with data-target="DailyPapers" has no data-props attribute')
    try:
        # BeautifulSoup has decoded the attribute's HTML entities once; the rest is JSON.
        props = json.loads(raw)
    except (ValueError, RecursionError) as error:
        message = f'data-target="DailyPapers" has data-props that are not JSON ({error})'
        raise ListingParseError(message) from error
    if not isinstance(props, dict) or "dailyPapers" not in props:
        keys = ", ".join(sorted(props)) if isinstance(props, dict) else type(props).__name__
        raise ListingParseError(f"the DailyPapers props have no dailyPapers (found: {keys[:200]})")
    period = props.get("periodType", "day")
    if period != "day":
        raise WrongDay(f"the page lists a {str(period)[:20]}, not a day")
    shown = _props_day(props)
    if shown is None:
        raise ListingParseError("the DailyPapers props have neither date nor dateString")
    if shown != day:
        raise WrongDay(f"the page shows {shown.isoformat()}, not {day.isoformat()}")
    return listing_from_items(props["dailyPapers"], day, ISLAND, url, "dailyPapers")


def _card_of(anchor: Tag) -> Tag:
    """The card around a title link: its <article> (2025 on), else the nearest ancestor that
    also holds the upvote count (the bare 2024 layout)."""
    article = anchor.find_parent("article")
    if article is not None:
        return article
    for parent in anchor.parents:
        if parent.select_one("div.leading-none") is not None:
            return parent
    return anchor


def _card_count(card: Tag, selector: str) -> int:
    """The first number among the elements matching `selector` ("Submitted by" banners share
    the upvote box's `leading-none` class)."""
    for element in card.select(selector):
        text = element.get_text(strip=True)
        if text.isdigit():
            return clean_count(text)
    return 0


def parse_cards(soup: BeautifulSoup, day: date, url: str) -> Listing:
    papers: dict[str, ScrapedPaper] = {}
    for anchor in soup.select('h3 > a[href^="/papers/"]'):
        match = _PAPER_PATH.fullmatch(urlsplit(str(anchor.get("href", ""))).path)
        try:
            arxiv_id = canonical_arxiv_id(match["id"]) if match else ""
        except InvalidArxivId:
            arxiv_id = ""
        title = clean_text(anchor.get_text(" "))
        if not arxiv_id or not title:
            continue  # /papers/date/..., /papers/week/..., /papers/trending: navigation, not papers
        card = _card_of(anchor)
        papers.setdefault(
            arxiv_id,
            ScrapedPaper(
                arxiv_id=arxiv_id,
                title=title,
                upvotes=_card_count(card, "div.leading-none"),
                num_comments=_card_count(card, 'a[href$="#community"]'),
                complete=False,
            ),
        )
    if not papers:
        raise ListingParseError(
            'no element with data-target="DailyPapers" and no paper cards (h3 > a[href^="/papers/<id>"])'
        )
    return Listing(day=day, source=CARDS, url=url, papers=list(papers.values()))


def parse_listing_page(html: str, day: date, url: str = "") -> Listing:
    """The papers a listing page shows for `day`. Raises ListingParseError only."""
    if not isinstance(html, str) or not html.strip():
        raise ListingParseError("the page is empty")
    # Parse just the island first: much cheaper than building the whole tree.
    island = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer(attrs=ISLAND_ATTRS))
    element = island.find(attrs=ISLAND_ATTRS)
    if element is None:
        return parse_cards(BeautifulSoup(html, "html.parser"), day, url)
    try:
        return parse_island(element, day, url)
    except WrongDay:
        raise  # a valid page of another day: its cards are of that day too
    except ListingParseError as island_error:
        try:
            return parse_cards(BeautifulSoup(html, "html.parser"), day, url)
        except ListingParseError:
            raise ListingParseError(f"{island_error}; and no paper cards to fall back on") from island_error


def parse_api_body(body: str | bytes, day: date, url: str = "") -> Listing:
    """The papers of an `/api/daily_papers?date=D` body. Raises ListingParseError only."""
    try:
        items = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ListingParseError(f"the API answer is not JSON ({error})") from error
    return listing_from_items(items, day, API, url, "the API answer")


def enrich(listing: Listing, api: Listing) -> Listing:
    """Fill the papers the cards only list by title with the API's full records (the page's
    counts are kept: both are live, and the page is what readers see)."""
    full = {paper.arxiv_id: paper for paper in api.papers}
    papers = []
    for paper in listing.papers:
        match = full.get(paper.arxiv_id)
        if not paper.complete and match is not None:
            match.upvotes, match.num_comments = paper.upvotes, paper.num_comments
            paper = match
        papers.append(paper)
    missing = sum(1 for paper in papers if not paper.complete)
    warnings = [*listing.warnings]
    if missing:
        warnings.append(f"{missing} papers listed by title only: not in the API answer")
    return Listing(listing.day, listing.source, listing.url, papers, listing.skipped + api.skipped, warnings)


# --- Fetching ------------------------------------------------------------------------------


def fetch_page_listing(day: date, client: HttpClient) -> Listing:
    try:
        response = client.get(page_path(day), accept="text/html")
    except FetchError as error:
        if error.status != 404:
            raise
        response = client.get(page_query_path(day), accept="text/html")
    return parse_listing_page(response.text(), day, response.url)


def fetch_api_listing(day: date, client: HttpClient) -> Listing:
    response = client.get(api_path(day), accept="application/json")
    return parse_api_body(response.body, day, response.url)


def fetch_listing(day: date, client: HttpClient | None = None) -> Listing:
    """The listing of `day` from the page, completed or replaced by the API as needed.
    Raises ScrapeFailed when neither gives one."""
    client = client or HttpClient()
    try:
        listing = fetch_page_listing(day, client)
    except (FetchError, ListingParseError) as page_error:
        try:
            listing = fetch_api_listing(day, client)
        except (FetchError, ListingParseError) as api_error:
            raise ScrapeFailed(client.url(page_path(day)), [page_error, api_error]) from api_error
        listing.warnings.append(f"page unusable, read the API instead: {page_error}")
        return listing
    if any(not paper.complete for paper in listing.papers):
        try:
            listing = enrich(listing, fetch_api_listing(day, client))
        except (FetchError, ListingParseError) as error:
            listing.warnings.append(f"could not complete the cards from the API: {error}")
    return listing
