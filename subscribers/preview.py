""" "What you would have received": the papers of the latest digest period that match a
subscriber's current choices, each with the reasons it was picked."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max

from newsletter.matching import compile_matcher, compile_terms, match_text, text_of
from papers.models import Paper
from subscribers.models import Frequency, Subscriber

TRENDING_EXTRA = 3  # top papers added for readers who ask for trending ones


@dataclass
class PreviewItem:
    paper: Paper
    reasons: list[str] = field(default_factory=list)


@dataclass
class Preview:
    start: date | None
    end: date | None
    items: list[PreviewItem]
    considered: int


def preview_for(subscriber: Subscriber) -> Preview:
    latest = Paper.objects.aggregate(latest=Max("first_listed_on"))["latest"]
    if latest is None:
        return Preview(None, None, [], 0)
    paused = subscriber.frequency == Frequency.PAUSED
    cadence = subscriber.frequency_before_pause if paused else subscriber.frequency
    start = latest - timedelta(days=6) if cadence == Frequency.WEEKLY else latest
    papers = list(Paper.objects.filter(first_listed_on__gte=start, first_listed_on__lte=latest))
    items = select_papers(subscriber, papers)
    return Preview(start, latest, items, len(papers))


def select_papers(subscriber: Subscriber, papers: list[Paper]) -> list[PreviewItem]:
    """Match, filter by upvotes, rank by upvotes, cap at max_papers; then the trending extras."""
    topics = [(topic.name, topic.matcher()) for topic in subscriber.topics.filter(active=True)]
    own = compile_matcher(subscriber.keywords)
    excluded = compile_terms(subscriber.excluded_keywords)
    authors = {name.casefold() for name in subscriber.followed_authors}

    picked: list[PreviewItem] = []
    for paper in papers:
        text = text_of(paper)
        if excluded.found_in(text) or paper.upvotes < subscriber.min_upvotes:
            continue
        reasons = [name for name, matcher in topics if match_text(matcher, text).matched]
        reasons += [f"“{term}”" for term in own.include.found_in(text)]
        reasons += [f"by {a}" for a in paper.authors if isinstance(a, str) and a.casefold() in authors]
        if reasons:
            picked.append(PreviewItem(paper, reasons))
    picked.sort(key=lambda item: item.paper.upvotes, reverse=True)
    picked = picked[: subscriber.max_papers]

    if subscriber.include_trending:
        chosen = {item.paper.pk for item in picked}
        trending = sorted(
            (p for p in papers if p.pk not in chosen and not excluded.found_in(text_of(p))),
            key=lambda p: p.upvotes,
            reverse=True,
        )
        picked += [PreviewItem(p, ["trending"]) for p in trending[:TRENDING_EXTRA]]
    return picked
