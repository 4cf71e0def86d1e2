"""An edition as one reader (or a sample persona) would get it, without sending it to them.

Everything runs in a transaction that is rolled back: a persona is a real Subscriber row for
the length of the render, and a real reader's public id is swapped for a random one, so the
signed links in a preview or a test send lead nowhere (a curator clicking "unsubscribe" in a
test email must not unsubscribe the reader). No Delivery or SentPaper is ever written.
"""

import uuid
from dataclasses import dataclass, field

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction

from config.ids import id_from
from newsletter.models import Delivery, Edition
from newsletter.ranking.rank import Ranked
from newsletter.sending.chunk import ChunkContext
from newsletter.sending.render import build_digest, is_weekly
from subscribers.models import Frequency, Status, Subscriber, Topic

PERSONA_ALL = "all-topics"
PERSONA_TRENDING = "trending"
TOPIC_PREFIX = "topic:"


class UnknownReader(ValueError):
    """The chosen subscriber or persona does not exist."""


@dataclass(frozen=True)
class Choice:
    """Who to preview as: a subscriber (id or address) or a persona key."""

    subscriber: str = ""
    persona: str = PERSONA_ALL
    weekly: bool = False


@dataclass
class Preview:
    label: str
    weekly: bool
    items: list[Ranked] = field(default_factory=list)
    message: EmailMultiAlternatives | None = None

    @property
    def subject(self) -> str:
        return self.message.subject if self.message else ""

    @property
    def text(self) -> str:
        return self.message.body if self.message else ""

    @property
    def html(self) -> str:
        return str(self.message.alternatives[0][0]) if self.message else ""


def personas() -> list[tuple[str, str]]:
    """(key, label) of the sample readers a curator can preview as."""
    choices = [
        (PERSONA_ALL, "Sample reader of every topic, with trending papers"),
        (PERSONA_TRENDING, "Sample reader of trending papers only"),
    ]
    for topic in Topic.objects.filter(active=True):
        choices.append((f"{TOPIC_PREFIX}{topic.slug}", f"Sample reader of {topic.name}"))
    return choices


def find_subscriber(value: str) -> Subscriber:
    value = value.strip()
    pk = id_from(value)
    found = Subscriber.objects.filter(pk=pk) if pk is not None else None
    if found is None or not found.exists():
        found = Subscriber.objects.filter(email__iexact=value)
    subscriber = found.first()
    if subscriber is None:
        raise UnknownReader(f"No subscriber {value!r}.")
    return subscriber


def persona_stand_in(key: str, weekly: bool) -> tuple[Subscriber, str]:
    labels = dict(personas())
    if key not in labels:
        raise UnknownReader(f"No persona {key!r}.")
    topics = list(Topic.objects.filter(active=True))
    if key == PERSONA_TRENDING:
        topics = []
    elif key.startswith(TOPIC_PREFIX):
        topics = [t for t in topics if t.slug == key.removeprefix(TOPIC_PREFIX)]
    subscriber = Subscriber.objects.create(
        email=f"persona-{uuid.uuid4().hex}@example.invalid",
        status=Status.ACTIVE,
        frequency=Frequency.WEEKLY if weekly else Frequency.DAILY,
        include_trending=not key.startswith(TOPIC_PREFIX),
    )
    subscriber.topics.set(topics)
    return subscriber, labels[key] + (" (weekly)" if weekly else "")


def reader_stand_in(value: str) -> tuple[Subscriber, str]:
    subscriber = find_subscriber(value)
    # Rolled back with the rest: links signed for this id match no reader.
    Subscriber.objects.filter(pk=subscriber.pk).update(public_id=uuid.uuid4())
    subscriber.refresh_from_db()
    return subscriber, f"{subscriber.email} ({subscriber.get_frequency_display().lower()})"


def render_preview(edition: Edition, choice: Choice) -> Preview:
    """Rank and render `edition` for the chosen reader; `message` is None when they would get
    no email (nothing matches and no trending papers asked for)."""
    with transaction.atomic():
        if choice.subscriber.strip():
            subscriber, label = reader_stand_in(choice.subscriber)
        else:
            subscriber, label = persona_stand_in(choice.persona, choice.weekly)
        subscriber = Subscriber.objects.prefetch_related("topics").get(pk=subscriber.pk)
        delivery = Delivery(subscriber=subscriber, edition=edition)
        weekly = is_weekly(subscriber)
        items = ChunkContext([delivery]).rank_for(delivery)
        message = build_digest(delivery, items, weekly) if items else None
        transaction.set_rollback(True)
    return Preview(label=label, weekly=weekly, items=items, message=message)


def send_test(edition: Edition, choice: Choice, to: str) -> Preview:
    """Send the preview to `to` (the curator), marked as a test and carrying no delivery id,
    so an ESP webhook about it never touches the ledger."""
    preview = render_preview(edition, choice)
    message = preview.message
    if message is None:
        return preview
    message.to, message.cc, message.bcc = [to], [], []
    message.subject = f"[Test] {message.subject}"
    message.metadata = {"test": "1"}
    message.tags = ["digest-test"]
    for header in ("X-Paperboy-Delivery", "List-Unsubscribe", "List-Unsubscribe-Post"):
        message.extra_headers.pop(header, None)
    message.extra_headers["X-Paperboy-Test"] = f"edition {edition.listed_on:%Y-%m-%d} as {preview.label}"
    message.connection = get_connection()
    message.send()
    return preview
