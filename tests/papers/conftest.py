"""Shared helpers for the paper store tests: the real Hugging Face captures and a local
HTTP server standing in for huggingface.co (127.0.0.1 only; nothing reaches the internet)."""

import json
import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.services import require

# Hypothesis caches under ./.hypothesis by default; keep the working tree clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "paperboy-hypothesis")

HF_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "hf"
PAGE_DAY = date(2024, 8, 1)


def require_captures() -> Path:
    require(HF_FIXTURES.is_dir(), f"needs the Hugging Face captures in {HF_FIXTURES.resolve()}")
    return HF_FIXTURES


@pytest.fixture
def captures() -> Path:
    return require_captures()


@pytest.fixture
def page_html(captures) -> str:
    return (captures / "html" / f"{PAGE_DAY}.html").read_text(encoding="utf-8")


def api_body(captures: Path, day: date | str) -> bytes:
    return (captures / "api" / f"{day}.json").read_bytes()


def api_items(captures: Path, day: date | str) -> list[dict]:
    return json.loads(api_body(captures, day))


_PROPS = re.compile(r'(data-target="DailyPapers"\s+data-props=")([^"]*)(")')


def with_props(html: str, change) -> str:
    """The page with its DailyPapers props passed through `change(props) -> props`
    (re-escaped exactly as the server does)."""
    from html import escape, unescape

    match = _PROPS.search(html)
    assert match, "the capture's DailyPapers element moved"
    props = change(json.loads(unescape(match[2])))
    return html[: match.start(2)] + escape(json.dumps(props), quote=True) + html[match.end(2) :]


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def hf(httpserver, settings):
    """pytest-httpserver standing in for huggingface.co, with fast retries."""
    settings.HF_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.HF_RETRY_BACKOFF = 0.0
    settings.HF_MAX_RETRIES = 2
    settings.HF_READ_TIMEOUT = 2.0
    settings.HF_CONNECT_TIMEOUT = 2.0
    settings.HF_TOTAL_TIMEOUT = 5.0
    return httpserver


def serve_page(server, day: date, html: str, status: int = 200) -> None:
    server.expect_request(f"/papers/date/{day}").respond_with_data(
        html, status=status, content_type="text/html; charset=utf-8"
    )


def serve_api(server, day: date, body: bytes | str, status: int = 200) -> None:
    server.expect_request("/api/daily_papers", query_string=f"date={day}").respond_with_data(
        body, status=status, content_type="application/json"
    )


PAGE_JUNK = st.text(max_size=40) | st.sampled_from(
    ['"', "&quot;", "<", "</div>", "}", "]", "\x00", "\\u0000", "&#0;"]
)


def mutate_page(data, html: str) -> str:
    """Cut, truncate, insert into or overwrite the page 1 to 4 times; half the edits aim at the
    papers' JSON island, where they matter most."""
    island_at = html.find('data-target="DailyPapers"')
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        near = data.draw(st.booleans()) and len(html) > island_at
        lo, hi = (island_at, min(len(html), island_at + 70_000)) if near else (0, len(html))
        start = data.draw(st.integers(lo, max(lo, hi)))
        end = data.draw(st.integers(start, min(len(html), start + 2000)))
        kind = data.draw(st.sampled_from(["cut", "truncate", "insert", "replace"]))
        junk = data.draw(PAGE_JUNK)
        if kind == "cut":
            html = html[:start] + html[end:]
        elif kind == "truncate":
            html = html[:start]
        elif kind == "insert":
            html = html[:start] + junk + html[start:]
        else:
            html = html[:start] + junk + html[end:]
    return html
