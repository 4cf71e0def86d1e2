"""A day's papers scored for the topics: popularity and the terms of each topic a paper matches.
Stored on each edition, so the send path never matches text."""

import math
from collections.abc import Iterable
from typing import Any, Protocol

from papers.matching import Matcher, matches_by_paper
from papers.models import Paper


class HasMatcher(Protocol):
    """A topic (subscribers.models.Topic), as far as scoring needs it."""

    pk: Any

    def matcher(self) -> Matcher: ...


def popularity(upvotes: int, day_max: int) -> float:
    """0..1, log-scaled against the day's most upvoted paper: 212 of 250 is near 1, 5 is low."""
    if day_max <= 0:
        return 0.0
    return math.log1p(upvotes) / math.log1p(day_max)


def compute_scores(papers: list[Paper], topics: "Iterable[HasMatcher]") -> dict:
    """Per paper: upvotes, popularity and the terms of each topic it matches."""
    day_max = max((p.upvotes for p in papers), default=0)
    matchers = {str(topic.pk): topic.matcher() for topic in topics}
    scored = {}
    for paper, matched in matches_by_paper(papers, matchers):
        scored[str(paper.pk)] = {
            "upvotes": paper.upvotes,
            "popularity": round(popularity(paper.upvotes, day_max), 4),
            "topics": {tid: list(found.included_by) for tid, found in matched.items()},
        }
    return {"papers": scored}
