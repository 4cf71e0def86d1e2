""" "What you would have received": the latest listing's papers ranked for a subscriber's
current choices, by the same ranking the digests use, each with the reasons it was picked."""

from dataclasses import dataclass
from datetime import date, timedelta

from newsletter.models import SentPaper
from newsletter.ranking.rank import Ranked, candidates_from_scores, profile_of, rank
from papers.models import Paper, latest_listing_day
from papers.scores import compute_scores
from subscribers.models import Frequency, Subscriber
from subscribers.reader_model import learned_of


@dataclass
class Preview:
    start: date | None
    end: date | None
    items: list[Ranked]
    considered: int


def preview_for(subscriber: Subscriber) -> Preview:
    latest = latest_listing_day()
    if latest is None:
        return Preview(None, None, [], 0)
    paused = subscriber.frequency == Frequency.PAUSED
    cadence = subscriber.frequency_before_pause if paused else subscriber.frequency
    start = latest - timedelta(days=6) if cadence == Frequency.WEEKLY else latest
    papers = list(Paper.objects.filter(listings__listed_on__range=(start, latest)).distinct())
    topics = list(subscriber.topics.filter(active=True))
    candidates = candidates_from_scores(compute_scores(papers, topics), {p.pk: p for p in papers})
    sent = set(SentPaper.objects.filter(subscriber=subscriber).values_list("paper_id", flat=True))
    learned = learned_of(getattr(subscriber, "learned", None))
    items = rank(profile_of(subscriber, topics, learned), candidates, sent)
    return Preview(start, latest, items, len(papers))
