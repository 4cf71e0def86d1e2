"""Every real capture parses with its exact paper count and correct fields."""

import json
from datetime import date
from html import escape

import pytest
from bs4 import BeautifulSoup

from papers.sources.archive import read_archive
from papers.sources.hf import (
    API,
    CARDS,
    ISLAND,
    ListingParseError,
    WrongDay,
    parse_api_body,
    parse_cards,
    parse_listing_page,
)
from tests.papers.conftest import PAGE_DAY, api_body, api_items, with_props

API_COUNTS = {
    "2024-05-27": 13,
    "2024-08-01": 11,
    "2025-03-05": 12,
    "2025-06-02": 20,
    "2026-01-05": 11,
    "2026-06-12": 30,
}


def test_the_2024_page_lists_13_papers_from_its_island(page_html):
    listing = parse_listing_page(page_html, PAGE_DAY)
    assert listing.source == ISLAND
    assert len(listing.papers) == 13
    assert listing.skipped == []
    llama = listing.papers[0]
    assert llama.arxiv_id == "2407.21783"
    assert llama.title == "The Llama 3 Herd of Models"
    assert llama.authors[:3] == ["Abhimanyu Dubey", "Abhinav Jauhri", "Abhinav Pandey"]
    assert len(llama.authors) == 533
    assert (llama.upvotes, llama.num_comments) == (94, 5)
    assert llama.submitted_by == "akhaliq"
    assert llama.thumbnail == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2407.21783.png"
    assert llama.abstract.startswith(
        "Modern artificial intelligence (AI) systems are powered by foundation models."
    )
    assert llama.complete
    assert listing.papers[-1].arxiv_id == "2404.01300"


def test_titles_and_abstracts_lose_their_hard_wraps(page_html):
    by_id = {p.arxiv_id: p for p in parse_listing_page(page_html, PAGE_DAY).papers}
    assert by_id["2407.21646"].title == (
        "Towards Achieving Human Parity on End-to-end Simultaneous Speech Translation via LLM Agent"
    )
    assert all("\n" not in p.title and "  " not in p.abstract for p in by_id.values())


def test_the_cards_of_the_page_agree_with_its_island(page_html):
    island = parse_listing_page(page_html, PAGE_DAY)
    cards = parse_cards(BeautifulSoup(page_html, "html.parser"), PAGE_DAY, "")
    assert cards.source == CARDS
    assert [(p.arxiv_id, p.title, p.upvotes, p.num_comments) for p in cards.papers] == [
        (p.arxiv_id, p.title, p.upvotes, p.num_comments) for p in island.papers
    ]
    assert not any(p.complete for p in cards.papers)


def test_without_an_island_the_page_is_read_from_its_cards(page_html):
    html = page_html.replace('data-target="DailyPapers"', 'data-target="Removed"')
    listing = parse_listing_page(html, PAGE_DAY)
    assert listing.source == CARDS
    assert len(listing.papers) == 13
    assert listing.papers[0].upvotes == 94


@pytest.mark.parametrize("day", API_COUNTS)
def test_every_api_capture_parses_with_its_exact_count(captures, day):
    items = api_items(captures, day)
    listing = parse_api_body(api_body(captures, day), date.fromisoformat(day))
    assert listing.source == API
    assert len(listing.papers) == API_COUNTS[day] == len(items)
    assert listing.skipped == []
    for paper, item in zip(listing.papers, items, strict=True):
        assert paper.arxiv_id == item["paper"]["id"]
        assert paper.upvotes == item["paper"]["upvotes"]
        assert paper.num_comments == item["numComments"]
        assert paper.title == " ".join(item["paper"]["title"].split())
        assert paper.authors == [a["name"].strip() for a in item["paper"]["authors"] if not a["hidden"]]


def test_api_fields_are_spot_on(captures):
    first = parse_api_body(api_body(captures, "2026-01-05"), date(2026, 1, 5)).papers[0]
    assert first.arxiv_id == "2512.24615"
    assert first.title.startswith("Youtu-Agent: Scaling Agent Productivity")
    assert (first.upvotes, first.num_comments) == (68, 1)
    assert first.github_repo == "https://github.com/TencentCloudADP/youtu-agent"
    assert first.project_page == "https://tencentcloudadp.github.io/youtu-agent/"
    assert first.submitted_by == "tristanli"
    prorl = parse_api_body(api_body(captures, "2025-06-02"), date(2025, 6, 2)).papers[0]
    assert (
        prorl.title
        == "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries in Large Language Models"
    )
    assert prorl.ai_keywords[:2] == ["reinforcement learning", "RL"]
    assert prorl.ai_summary


def test_hidden_authors_are_left_out(captures):
    paper = parse_api_body(api_body(captures, "2026-06-12"), date(2026, 6, 12)).papers[20]
    assert paper.arxiv_id == "2606.12575"
    assert "Dengyang Jiang" not in paper.authors
    assert paper.authors[:3] == ["Dongyang Liu", "Ruoyi Du", "David Liu"]
    assert len(paper.authors) == 9


def test_latex_stays_readable(captures):
    by_id = {
        p.arxiv_id: p for p in parse_api_body(api_body(captures, "2024-05-27"), date(2024, 5, 27)).papers
    }
    assert "resulting in a 54.6\\% speedup." in by_id["2405.15319"].abstract


def test_the_page_and_the_api_of_the_same_day_agree(captures, page_html):
    page = {p.arxiv_id: p for p in parse_listing_page(page_html, PAGE_DAY).papers}
    api = {p.arxiv_id: p for p in parse_api_body(api_body(captures, PAGE_DAY), PAGE_DAY).papers}
    # The list grew during the day: the page (later) holds two papers the API capture lacks.
    assert len(page) == 13 and len(api) == 11
    assert set(page) - set(api) == {"2407.20229", "2404.01300"}
    assert set(api) <= set(page)
    for arxiv_id, paper in api.items():
        other = page[arxiv_id]
        assert (paper.title, paper.abstract, paper.thumbnail, paper.submitted_by) == (
            other.title,
            other.abstract,
            other.thumbnail,
            other.submitted_by,
        )
        assert other.upvotes >= paper.upvotes  # the page was captured later
        if arxiv_id != "2407.21781":
            assert paper.authors == other.authors
    # Between the captures a duplicate author of 2407.21781 was marked hidden: the page leaves it out.
    assert api["2407.21781"].authors == [
        *page["2407.21781"].authors[:2],
        "Xuanyu Huang",
        *page["2407.21781"].authors[2:],
    ]


def test_the_island_is_found_whatever_its_place_attribute_order_or_quotes(captures, page_html):
    props = BeautifulSoup(page_html, "html.parser").find(attrs={"data-target": "DailyPapers"})["data-props"]
    single_quoted = escape(props, quote=False).replace("'", "&#39;")
    for element in (
        f"<section><span data-props='{single_quoted}' class=x data-target=DailyPapers></span></section>",
        f'<body><main><div><div data-props="{escape(props)}" data-target="DailyPapers"></div></div></main>',
        f'<p>intro</p><div data-target="DailyPapers" data-props="{escape(props)}"></div>',
    ):
        listing = parse_listing_page(f"<!doctype html><html>{element}</html>", PAGE_DAY)
        assert listing.source == ISLAND and len(listing.papers) == 13


def test_entities_are_decoded_exactly_once():
    item = {
        "paper": {"id": "2407.00001", "title": "Tom &amp; Jerry <b>", "summary": "5 &lt; 6", "authors": []}
    }
    props = {"date": "2024-08-01T00:00:00.000Z", "dailyPapers": [item]}
    html = f'<div data-target="DailyPapers" data-props="{escape(json.dumps(props))}"></div>'
    paper = parse_listing_page(html, PAGE_DAY).papers[0]
    assert paper.title == "Tom &amp; Jerry <b>"
    assert paper.abstract == "5 &lt; 6"


def test_the_2026_props_shape_is_read(captures, page_html):
    items = api_items(captures, "2026-06-12")

    def as_2026(props):
        return {
            "periodType": "day",
            "dateString": "2026-06-12",
            "dailyPapers": items,
            "prevDate": "2026-06-11",
            "nextDate": "2026-06-15",
        }

    listing = parse_listing_page(with_props(page_html, as_2026), date(2026, 6, 12))
    assert listing.source == ISLAND
    assert len(listing.papers) == 30
    assert listing.papers[0].arxiv_id == "2606.00467"


def test_a_page_of_another_day_is_refused(page_html):
    with pytest.raises(WrongDay, match="the page shows 2024-08-01, not 2024-08-02"):
        parse_listing_page(page_html, date(2024, 8, 2))


def test_a_weekly_page_is_refused(page_html):
    html = with_props(page_html, lambda p: {**p, "periodType": "week"})
    with pytest.raises(WrongDay, match="lists a week, not a day"):
        parse_listing_page(html, PAGE_DAY)


def test_an_empty_day_is_empty_not_an_error(page_html):
    listing = parse_listing_page(with_props(page_html, lambda p: {**p, "dailyPapers": []}), PAGE_DAY)
    assert listing.source == ISLAND and listing.papers == []


def test_navigation_links_are_not_papers():
    html = """<html><body>
      <h3><a href="/papers/date/2024-08-01">Today</a></h3>
      <h3><a href="/papers/week/2024-W31">This week</a></h3>
      <h3><a href="/papers/month/2024-08">This month</a></h3>
      <h3><a href="/papers/trending">Trending</a></h3>
      <h3><a href="/papers?date=2024-07-31">Previous</a></h3>
      <article><h3><a href="/papers/2407.21783">The Llama 3 Herd of Models</a></h3>
        <div class="leading-none">94</div><a href="/papers/2407.21783#community">5</a></article>
    </body></html>"""
    listing = parse_listing_page(html, PAGE_DAY)
    assert [(p.arxiv_id, p.upvotes, p.num_comments) for p in listing.papers] == [("2407.21783", 94, 5)]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("", "the page is empty"),
        ("<html><body><h1>Daily Papers</h1></body></html>", 'no element with data-target="DailyPapers"'),
        ('<div data-target="DailyPapers"></div>', "has no data-props"),
        ('<div data-target="DailyPapers" data-props="{&quot;date"></div>', "data-props that are not JSON"),
        ('<div data-target="DailyPapers" data-props="{}"></div>', "no dailyPapers"),
        ('<div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;: []}"></div>', "neither date"),
        (
            '<div data-target="DailyPapers" data-props=\'{"date": "2024-08-01", "dailyPapers": {}}\'></div>',
            "dailyPapers is dict, not a list",
        ),
        (
            '<div data-target="DailyPapers" data-props=\'{"date": "2024-08-01", "dailyPapers": [{"x": 1}]}\'>'
            "</div>",
            "none of the 1 items in dailyPapers is readable",
        ),
    ],
)
def test_an_unrecognised_page_names_what_is_missing(html, message):
    with pytest.raises(ListingParseError, match=message):
        parse_listing_page(html, PAGE_DAY)


def test_a_truncated_page_is_an_error(page_html):
    start = page_html.index('data-target="DailyPapers"')
    with pytest.raises(ListingParseError):
        parse_listing_page(page_html[: start + 5000], PAGE_DAY)


def test_an_unreadable_item_is_skipped_and_said(captures, page_html):
    def break_one(props):
        props["dailyPapers"][1]["paper"]["id"] = "not-an-id"
        return props

    listing = parse_listing_page(with_props(page_html, break_one), PAGE_DAY)
    assert len(listing.papers) == 12
    assert listing.skipped == ["item 1: not an arXiv id: 'not-an-id'"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not JSON"),
        (b"<html>", "not JSON"),
        (b'{"error": "x"}', "is dict, not a list"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_bad_api_answer_names_the_problem(body, message):
    with pytest.raises(ListingParseError, match=message):
        parse_api_body(body, PAGE_DAY)


def test_every_day_of_the_archive_parses_without_loss(captures):
    days = items = garbage = 0
    ids: dict[str, list[date]] = {}
    for record in read_archive(captures / "daily-papers-archive.jsonl.gz"):
        body = json.dumps(record.items)
        listing = parse_api_body(body, record.day)
        assert listing.skipped == [], record.day
        assert [p.arxiv_id for p in listing.papers] == [i["paper"]["id"] for i in record.items], record.day
        for paper, item in zip(listing.papers, record.items, strict=True):
            assert paper.title == " ".join(item["paper"]["title"].split())
            assert paper.upvotes == item["paper"]["upvotes"]
            assert len(paper.authors) == sum(1 for a in item["paper"]["authors"] if not a.get("hidden"))
            ids.setdefault(paper.arxiv_id, []).append(record.day)
        days += 1
        items += len(record.items)
        garbage += len(record.garbage)
    assert days == 568
    # 9,647 lines of items: 4 are the key names of a lost wrapper object (2025-01-10), not papers.
    assert (items, garbage) == (9643, 4)
    assert len(ids) == 9639
    assert ids["2604.07429"] == [date(2026, 4, 10), date(2026, 4, 16)]
