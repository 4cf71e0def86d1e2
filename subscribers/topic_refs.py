"""Readers' topics for a whole chunk of a send at once, as plain rows."""

from typing import NamedTuple

from django.db.models import F

from config.ids import AnyOf
from subscribers.models import Subscriber


class TopicRef(NamedTuple):
    """What ranking reads of a topic (newsletter.ranking.rank.profile_of)."""

    pk: int
    name: str
    active: bool


def topics_of(subscriber_ids: list[int]) -> dict[int, list[TopicRef]]:
    """Each reader's topics, in one query: prefetch_related made a queryset per reader and a
    model per (reader, topic), 6% of a send worker's time."""
    rows = Subscriber.topics.through.objects.filter(AnyOf(F("subscriber_id"), subscriber_ids))
    columns = ("subscriber_id", "topic_id", "topic__name", "topic__active")
    found: dict[int, list[TopicRef]] = {}
    for subscriber_id, *topic in rows.values_list(*columns):
        found.setdefault(subscriber_id, []).append(TopicRef(*topic))
    return found
