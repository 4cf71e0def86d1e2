"""A claimed chunk, loaded: its rows with their readers, and everything ranking and rendering
them needs, in a fixed number of queries whatever the chunk's size."""

import time

from django.conf import settings

from newsletter.models import Delivery, Edition
from newsletter.ranking.rank import Candidate, Ranked, candidates_of, preferences_of, profile_of, rank
from newsletter.sending.editions import editions_of_week
from newsletter.sending.outcomes import already_sent
from newsletter.sending.render import DigestLayout, digest_layout, is_weekly
from papers.models import Paper
from subscribers.followups import News, news_for
from subscribers.models import Vote
from subscribers.reader_model import learned_of
from subscribers.topic_refs import topics_of


class ChunkContext:
    """Everything a chunk needs, loaded with a fixed number of queries whatever its size."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self.deliveries = deliveries
        edition_ids = {d.edition_id for d in deliveries}
        self.weeks = {
            eid: editions_of_week(next(d.edition for d in deliveries if d.edition_id == eid))
            for eid in edition_ids
        }
        paper_ids = {
            int(pid) for week in self.weeks.values() for e in week for pid in e.scores.get("papers", {})
        }
        papers = Paper.objects.in_bulk(paper_ids)
        self._candidates: dict[tuple[int, bool], list[Candidate]] = {}
        self.layouts: dict[tuple[int, bool], DigestLayout] = {}
        for d in deliveries:
            key = (d.edition_id, is_weekly(d.subscriber))
            if key not in self._candidates:
                editions = (
                    self.weeks[d.edition_id]
                    if key[1]
                    else [e for e in self.weeks[d.edition_id] if e.pk == d.edition_id]
                )
                self._candidates[key] = candidates_of(editions, papers)
                # One render of every paper this chunk may send (newsletter.sending.render).
                self.layouts[key] = digest_layout(d.edition, key[1], [c.paper for c in self._candidates[key]])
        self._ranked: dict[tuple, list[Ranked]] = {}
        self.topics = topics_of([d.subscriber_id for d in deliveries])
        self.sent: dict[int, set[int]] = {}
        for subscriber_id, paper_id in already_sent([d.subscriber_id for d in deliveries], paper_ids):
            self.sent.setdefault(subscriber_id, set()).add(paper_id)
        # News on papers each reader liked, and the votes to mark as told once sent.
        self.news = news_for(d.subscriber_id for d in deliveries)
        self.told: list[Vote] = []
        # Waiting for send slots (DIGEST_SEND_RATE) stops here, well inside the task's time limit.
        self.deadline = time.monotonic() + settings.DIGEST_CHUNK_DEADLINE

    def news_of(self, delivery: Delivery) -> list[News]:
        return [news for _, news in self.news.get(delivery.subscriber_id, [])]

    def mark_sent(self, delivery: Delivery) -> None:
        self.told += [vote for vote, _ in self.news.get(delivery.subscriber_id, [])]

    def rank_for(self, delivery: Delivery) -> list[Ranked]:
        """The reader's ranking; readers alike (the tick puts them in one chunk) share one.
        A reader with a learned model of their own is always ranked alone."""
        subscriber = delivery.subscriber
        key = (delivery.edition_id, is_weekly(subscriber))
        learned = learned_of(getattr(subscriber, "learned", None))
        sent = self.sent.get(subscriber.pk, set())
        topics = self.topics.get(subscriber.pk, [])
        alike = None if learned else (key, preferences_of(subscriber, topics), frozenset(sent))
        ranked = self._ranked.get(alike) if alike else None
        if ranked is None:
            ranked = rank(profile_of(subscriber, topics, learned), self._candidates[key], sent)
            if alike:
                self._ranked[alike] = ranked
        return ranked


# A reader's fields no digest reads: the consent record (its text can be long), timestamps
# kept for the curator. Turning them into Python objects was 1.6% of the send path's instructions.
UNSENT_FIELDS = [f"subscriber__{name}" for name in (
    "consent_at", "consent_ip", "consent_user_agent", "consent_version", "consent_text", "confirmed_at",
    "unsubscribed_at", "created_at", "updated_at", "profile_key", "profile_key_of",
)]  # fmt: skip


def load_claimed(token: str) -> list[Delivery]:
    claimed = Delivery.objects.filter(claim_token=token, status=Delivery.Status.SENDING)
    deliveries = list(claimed.select_related("subscriber", "subscriber__learned").defer(*UNSENT_FIELDS))
    # One Edition object per edition, not one per row through a join (a third of this load),
    # and without its scores: ChunkContext loads each edition with its scores once anyway.
    editions = Edition.objects.defer("scores").in_bulk({d.edition_id for d in deliveries})
    for delivery in deliveries:
        delivery.edition = editions[delivery.edition_id]
    return deliveries
