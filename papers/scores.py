"""A day's papers scored for the topics: popularity, and which topics each paper is in with the
words that say so. Stored on each edition, so the send path never looks at text.

A topic the classifier was trained on (papers.classifier) follows its verdict, stored on each
paper when it was stored or re-scraped; the topic's exclude terms still veto it, so a curator
keeps the last word. A topic it has never seen (a curator made it and marked no paper for it yet)
falls back to its include and exclude terms.
"""

import math
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from papers.classifier.store import classify
from papers.matching import Matcher, match_text, text_of
from papers.models import Paper


class TopicLike(Protocol):
    """A topic (subscribers.models.Topic), as far as scoring needs it."""

    pk: Any
    slug: str

    def matcher(self) -> Matcher: ...


def popularity(upvotes: int, day_max: int) -> float:
    """0..1, log-scaled against the day's most upvoted paper: 212 of 250 is near 1, 5 is low."""
    if day_max <= 0:
        return 0.0
    return math.log1p(upvotes) / math.log1p(day_max)


def topics_of(
    papers: list[Paper], topics: Iterable[TopicLike]
) -> Iterator[tuple[Paper, dict[str, list[str]]]]:
    """Each paper with the topics it is in (by topic pk, as a string) and the evidence: the
    classifier's words, or for a topic it does not know, the terms that matched."""
    topics = list(topics)
    unscored = [p for p in papers if not p.topic_scores]
    if unscored:  # stored before the classifier ran (an upgrade): scored once, here
        classify([p for p in unscored if p.pk is not None])
        classify([p for p in unscored if p.pk is None], save=False)  # papers read from a file
    matchers = {str(t.pk): t.matcher() for t in topics}
    for paper in papers:
        text = text_of(paper)
        found = {}
        for topic in topics:
            key, matcher = str(topic.pk), matchers[str(topic.pk)]
            if topic.slug in paper.topic_scores:
                if topic.slug in paper.topics and not matcher.exclude.found_in(text):
                    found[key] = list(paper.topic_evidence.get(topic.slug, []))
            elif match := match_text(matcher, text):
                found[key] = list(match.included_by)
        yield paper, found


def compute_scores(papers: list[Paper], topics: Iterable[TopicLike]) -> dict:
    """Per paper: upvotes, popularity and the topics it is in, with their evidence."""
    day_max = max((p.upvotes for p in papers), default=0)
    scored = {}
    for paper, found in topics_of(papers, topics):
        scored[str(paper.pk)] = {
            "upvotes": paper.upvotes,
            "popularity": round(popularity(paper.upvotes, day_max), 4),
            "topics": found,
        }
    return {"papers": scored}
