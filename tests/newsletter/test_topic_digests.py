"""What a digest holds: readers with one topic each, on a listing day two readers labelled
(papers/topic_labels), get only papers labelled with their topic, and trending picks only when
they asked, set apart after their own."""

import json
import re
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from newsletter.models import Edition
from newsletter.sending.delivery import send_chunk
from newsletter.sending.editions import build_edition
from newsletter.sending.tick import run_tick
from papers.ingest import store_listing
from papers.sources.hf import listing_from_items
from papers.topic_labels import FOLDER
from subscribers.models import Topic
from tests.newsletter.personas import reader
from tests.papers.conftest import require_captures

pytestmark = pytest.mark.django_db
DAY = date(2024, 5, 27)  # labelled, and captured from the API


def labelled(day: date) -> dict[str, set[str]]:
    rows = [json.loads(line) for line in (FOLDER / "labels.jsonl").read_text().splitlines()]
    return {row["id"]: set(row["topics"]) for row in rows if row["date"] == day.isoformat()}


def send_the_day(day: date) -> None:
    items = json.loads((require_captures() / "api" / f"{day}.json").read_text())
    store_listing(listing_from_items(items, day, "api", "", "capture"), timezone.now())
    edition = build_edition(day, status=Edition.Status.SCHEDULED)
    chunks: list[list[int]] = []
    run_tick(datetime(2024, 5, 28, 12, tzinfo=UTC), chunks.append, edition, ignore_time=True)
    for chunk in chunks:
        send_chunk(chunk)


def sections(message) -> tuple[list[str], list[str]]:
    """arXiv ids of the reader's own picks, and of the trending ones after them."""
    text = message.get_body(("plain",)).get_content()
    own, _, trending = text.partition("Also trending today")
    pattern = re.compile(r"arXiv: https://arxiv\.org/abs/(\S+)")
    return pattern.findall(own), pattern.findall(trending)


def test_one_topic_readers_get_only_papers_labelled_with_their_topic(smtp_server):
    labels = labelled(DAY)
    slugs = sorted({slug for topics in labels.values() for slug in topics})
    assert len(labels) == 13 and len(slugs) >= 5
    for slug in slugs:
        reader(f"{slug}@example.test", [Topic.objects.get(slug=slug)], include_trending=False)
    send_the_day(DAY)
    reached = 0
    for slug in slugs:
        (message,) = smtp_server.to(f"{slug}@example.test")
        own, trending = sections(message)
        assert own and trending == []
        assert all(slug in labels[arxiv_id] for arxiv_id in own), (slug, own)
        reached += len(own)
    relevant = sum(len(topics) for topics in labels.values())
    assert reached >= 0.75 * relevant  # most of the day's on-topic papers reach their readers


def test_trending_comes_apart_and_only_when_asked_for(smtp_server):
    science = Topic.objects.get(slug="science-health")  # no paper of the day is about it
    assert not any("science-health" in topics for topics in labelled(DAY).values())
    reader("quiet@example.test", [science], include_trending=False)
    reader("curious@example.test", [science], include_trending=True)
    send_the_day(DAY)
    assert smtp_server.to("quiet@example.test") == []  # nothing for them, and no trending asked
    (message,) = smtp_server.to("curious@example.test")
    own, trending = sections(message)
    assert own == [] and len(trending) == 3
    # (Django folds a long non-ASCII subject onto its own line; the parser keeps the fold's space.)
    assert message["Subject"].strip().startswith("Trending today: ")
    assert "Nothing on your topics today" in message.get_body(("html",)).get_content()
    section = message.get_body(("plain",)).get_content().split("Also trending today")[1]
    assert len(re.findall(r"^- ", section, re.M)) == 3 and not re.search(r"^\d+\. ", section, re.M)
