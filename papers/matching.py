"""Term matching: which papers a topic, a subscriber's keywords or a curator's query match.

A term is a word or a phrase ("diffusion models"). Text and terms are both reduced to a
sequence of stemmed, lower-case word tokens, so matching is word-bounded ("rl" does not match
"world"), tolerant of inflection (the English Snowball stemmer: "diffusion models" matches
"diffusion model", "robotics" matches "robot"), of British spelling ("quantisation") and acronym
plurals ("LLMs"), and of punctuation ("vision-language" matches "vision language"). A phrase
matches when its tokens appear contiguously. Exclude terms win over include terms.

Used by the preference centre's preview, by ranking and by the curator console; everything
here is plain, typed and free of Django so it runs on dicts from the archive as well as on models.
"""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import snowballstemmer

P = TypeVar("P")
K = TypeVar("K")

_STEMMER = snowballstemmer.stemmer("english")
# Letters and digits; "3d", "gpt4o", "llama3" stay one token each, hyphens and dots split.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


_BRITISH_IS = re.compile(r"is(ation|ations|e|ed|es|ing|er|ers)$")
_VOWEL = re.compile(r"[aeiouy]")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    # The vocabulary of a paper corpus repeats a lot: caching makes stemming nearly free.
    if len(word) >= 4 and word.endswith("s") and not _VOWEL.search(word[:-1]):
        return word[:-1]  # an acronym's plural: "llms", "vlms"; Snowball leaves those alone
    return _STEMMER.stemWord(_BRITISH_IS.sub(r"iz\1", word))


def _stems(text: str) -> list[str]:
    return [_stem(token) for token in _TOKEN.findall(text.lower())]


def words_and_stems(text: str) -> list[tuple[str, str]]:
    """Each word of `text` as written (lower-cased) with its stem, in order."""
    return [(token, _stem(token)) for token in _TOKEN.findall(text.lower())]


def stems_of(text: str) -> list[str]:
    """The stemmed, lower-case words of `text`, as matching sees them."""
    return _stems(text)


def normalise(text: str) -> str:
    """Text as space-delimited stems with a space at each end, so " stem " tests a whole word."""
    stems = _stems(text)
    return f" {' '.join(stems)} " if stems else " "


def split_terms(raw: str | Iterable[str]) -> list[str]:
    """Terms from a comma- or newline-separated string (or a list), trimmed, blanks and
    duplicates dropped, order kept."""
    parts = re.split(r"[,\n\r]+", raw) if isinstance(raw, str) else list(raw)
    seen: dict[str, None] = {}
    for part in parts:
        term = " ".join(str(part).split())
        if term and term.lower() not in {s.lower() for s in seen}:
            seen[term] = None
    return list(seen)


@dataclass(frozen=True)
class Terms:
    """Terms compiled for matching: each original term beside its normalised form."""

    compiled: tuple[tuple[str, str], ...]

    def found_in(self, normalised_text: str) -> tuple[str, ...]:
        return tuple(term for term, needle in self.compiled if needle in normalised_text)

    def __bool__(self) -> bool:
        return bool(self.compiled)


def compile_terms(raw: str | Iterable[str]) -> Terms:
    """Compile terms; a term with no word characters (say "++") can never match and is dropped."""
    compiled = []
    for term in split_terms(raw):
        needle = normalise(term)
        if needle.strip():
            compiled.append((term, needle))
    return Terms(tuple(compiled))


@dataclass(frozen=True)
class Matcher:
    include: Terms
    exclude: Terms


def compile_matcher(include: str | Iterable[str], exclude: str | Iterable[str] = ()) -> Matcher:
    return Matcher(compile_terms(include), compile_terms(exclude))


@dataclass(frozen=True)
class Match:
    """The outcome for one text: `matched` is true when an include term was found and no
    exclude term was."""

    included_by: tuple[str, ...]
    excluded_by: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return bool(self.included_by) and not self.excluded_by

    def __bool__(self) -> bool:
        return self.matched


class PaperLike(Protocol):
    title: str
    abstract: str
    ai_keywords: Sequence[str]


def paper_text(title: str, abstract: str = "", ai_keywords: Iterable[str] = ()) -> str:
    """The normalised text a paper is matched on: its title, abstract and AI keywords.

    The parts are joined with "|", which no needle holds, so a phrase never spans two of them."""
    parts = [title, abstract, *(str(k) for k in ai_keywords)]
    return f" {' | '.join(' '.join(_stems(part)) for part in parts)} "


def match_text(matcher: Matcher, normalised_text: str) -> Match:
    return Match(matcher.include.found_in(normalised_text), matcher.exclude.found_in(normalised_text))


def match_paper(matcher: Matcher, paper: PaperLike | dict[str, Any]) -> Match:
    """Match a Paper (or a dict with title, abstract and ai_keywords) against a matcher."""
    return match_text(matcher, text_of(paper))


def matches_by_paper(
    papers: Iterable[P], matchers: Mapping[K, Matcher]
) -> Iterator[tuple[P, dict[K, Match]]]:
    """Each paper with the matchers (topics, by whatever key the caller uses) it matches. The one
    loop of "normalise each paper once, try every matcher on it" that the editions' scores, the
    curator console and the coverage report share."""
    for paper in papers:
        text = text_of(paper)
        yield paper, {key: found for key, matcher in matchers.items() if (found := match_text(matcher, text))}


def text_of(paper: PaperLike | dict[str, Any]) -> str:
    """Normalise a paper once when it is matched against many matchers."""
    if isinstance(paper, dict):
        return paper_text(paper.get("title", ""), paper.get("abstract", ""), paper.get("ai_keywords") or ())
    return paper_text(paper.title, paper.abstract, paper.ai_keywords or ())
