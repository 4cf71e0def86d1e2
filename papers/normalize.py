"""Turn scraped values into the clean, plain text the paper store keeps.

Source-independent: every source builds `ScrapedPaper`s through these helpers, so the store
never sees hard-wrapped titles, versioned ids or `javascript:` links.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

# New-style arXiv ids (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN since 2015.
_NEW_ID = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(?:v\d+)?")
# Old-style ids (before April 2007): archive(.SUBJECT)/YYMMNNN.
_OLD_ID = re.compile(r"(?P<archive>[a-z][a-z-]*(?:\.[A-Z]{2})?)/(?P<yy>\d{2})(?P<mm>\d{2})\d{3}(?:v\d+)?")
_ID_PREFIX = re.compile(r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE)
_VERSION = re.compile(r"v\d+$")
# C0 and C1 controls: never text, and forbidden in HTML pages (C1 found by fuzzing the page).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MAX_URL_LENGTH = 500
MAX_NAME_LENGTH = 200


class InvalidArxivId(ValueError):
    pass


def canonical_arxiv_id(value: Any) -> str:
    """'2407.21783v2', 'arXiv:2407.21783' or an arxiv.org URL -> '2407.21783'.
    Raises InvalidArxivId for anything that is not a well-formed arXiv id."""
    if not isinstance(value, str):
        raise InvalidArxivId(f"arXiv id is {type(value).__name__}, not text")
    text = _ID_PREFIX.sub("", value.strip()).removesuffix(".pdf")
    match = _NEW_ID.fullmatch(text)
    if match:
        yymm = int(match["yy"] + match["mm"])
        # 4-digit numbers ran from 0704 to 1412, 5-digit ones since 1501.
        digits_ok = len(match["num"]) == (4 if yymm < 1501 else 5)
        if 1 <= int(match["mm"]) <= 12 and yymm >= 704 and digits_ok:
            return _VERSION.sub("", text)
    match = _OLD_ID.fullmatch(text)
    if match and 1 <= int(match["mm"]) <= 12:
        return _VERSION.sub("", text)
    raise InvalidArxivId(f"not an arXiv id: {value[:50]!r}")


def clean_text(value: Any) -> str:
    """Plain, single-spaced text: hard wraps and runs of spaces collapsed, control
    characters dropped, Unicode NFC. Backslashes and $ are kept, so LaTeX stays readable.
    HTML entities are not touched here: the HTML parser decoded them once already."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    return " ".join(text.split())


def clean_url(value: Any, base: str = "https://huggingface.co") -> str:
    """An absolute http(s) URL, or '' (other schemes such as javascript: are dropped)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    url = urljoin(base, value.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL_LENGTH:
        return ""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return ""
    return url


def clean_count(value: Any) -> int:
    """A non-negative int from a JSON number or digits; 0 when absent or nonsense."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, min(value, 2**31 - 1))
    if isinstance(value, str) and value.strip().isdigit():
        return min(int(value.strip()), 2**31 - 1)
    return 0


def clean_names(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    return [name for name in (clean_text(v) for v in values) if name]


@dataclass
class ScrapedPaper:
    """One paper as a listing shows it, already cleaned. `complete` is False when the source
    gave only the id, title and counts (the server-rendered cards), so the API should fill in."""

    arxiv_id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    github_repo: str = ""
    project_page: str = ""
    thumbnail: str = ""
    upvotes: int = 0
    num_comments: int = 0
    ai_summary: str = ""
    ai_keywords: list[str] = field(default_factory=list)
    submitted_by: str = ""
    complete: bool = True

    def store_fields(self) -> dict[str, Any]:
        """The values a Paper row takes from this scrape."""
        return {
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "github_repo": self.github_repo,
            "project_page": self.project_page,
            "thumbnail": self.thumbnail,
            "upvotes": self.upvotes,
            "num_comments": self.num_comments,
            "ai_summary": self.ai_summary,
            "ai_keywords": self.ai_keywords,
            "submitted_by": self.submitted_by[:MAX_NAME_LENGTH],
        }
