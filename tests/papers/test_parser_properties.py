"""Property-based: mutated real pages and API bodies never make the parsers raise anything
but their own clear ListingParseError, and whatever they return is clean."""

import json
from datetime import date
from html import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.normalize import canonical_arxiv_id
from papers.sources.hf import Listing, ListingParseError, parse_api_body, parse_listing_page
from tests.papers.conftest import HF_FIXTURES, PAGE_DAY, mutate_page, require_captures

# database=None: no .hypothesis/ folder in the working tree; failures print their reproducer.
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def load_page() -> str:
    return (
        (HF_FIXTURES / "html" / f"{PAGE_DAY}.html").read_text(encoding="utf-8")
        if HF_FIXTURES.is_dir()
        else ""
    )


PAGE = load_page()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(autouse=True)
def _captures():
    require_captures()


def assert_clean(listing: Listing) -> None:
    for paper in listing.papers:
        assert canonical_arxiv_id(paper.arxiv_id) == paper.arxiv_id
        assert paper.title and paper.title == " ".join(paper.title.split())
        assert paper.upvotes >= 0 and paper.num_comments >= 0
        assert all(isinstance(name, str) and name for name in paper.authors)
        for url in (paper.github_repo, paper.project_page, paper.thumbnail):
            assert url == "" or url.startswith(("http://", "https://"))


def parse_or_clear_error(html: str) -> None:
    try:
        listing = parse_listing_page(html, PAGE_DAY)
    except ListingParseError as error:
        assert str(error)
    else:
        assert_clean(listing)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_cutting_splicing_and_garbling_the_page_gives_a_listing_or_a_clear_error(data):
    html = mutate_page(data, PAGE)
    parse_or_clear_error(html)


def props_of_page() -> dict:
    from bs4 import BeautifulSoup

    return json.loads(
        BeautifulSoup(PAGE, "html.parser").find(attrs={"data-target": "DailyPapers"})["data-props"]
    )


PROPS = props_of_page() if PAGE else {}


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from paths(child, (*prefix, index))


def replaced(value, path, new):
    if not path:
        return new
    copy = value.copy()
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


ALL_PATHS = list(paths(PROPS)) if PROPS else [()]


@PROPERTY_SETTINGS
@given(edits=st.lists(st.tuples(st.sampled_from(ALL_PATHS), json_values), min_size=1, max_size=3))
def test_any_value_anywhere_in_the_props_gives_a_listing_or_a_clear_error(edits):
    props = PROPS
    for path, new in edits:
        try:
            props = replaced(props, path, new)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier edit removed this path
    element = f'<div data-target="DailyPapers" data-props="{escape(json.dumps(props))}"></div>'
    parse_or_clear_error(f"<html><body>{element}</body></html>")


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=200) | json_values.map(json.dumps).map(str.encode))
def test_any_api_body_gives_a_listing_or_a_clear_error(body):
    try:
        listing = parse_api_body(body, date(2024, 8, 1))
    except ListingParseError as error:
        assert str(error)
    else:
        assert_clean(listing)
