"""What happens to a subscriber: sign-up, confirmation, preferences, pause, unsubscribe, erasure.

Views call these and nothing else writes a Subscriber. Emails are enqueued after the transaction
commits, so a rolled-back request sends nothing.
"""

import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from papers.matching import split_terms
from subscribers import limits, status
from subscribers.models import Frequency, Status, Subscriber, Topic, normalise_email
from subscribers.tasks import send_subscriber_email_task

# Shown beside the sign-up button and stored with each consent; bump the version when it changes.
CONSENT_VERSION = "signup-2025-01"
CONSENT_TEXT = (
    "Email me the papers that match my choices, at the frequency I picked. "
    "I can change my choices, pause, export or delete my data, or unsubscribe from any email."
)


@dataclass(frozen=True)
class Consent:
    ip: str | None
    user_agent: str
    at: Any = None  # a datetime; now when None


@dataclass
class SignupChoices:
    email: str
    topics: list[Topic] = field(default_factory=list)
    frequency: str = Frequency.DAILY
    weekday: int = 0
    delivery_hour: int = 7
    time_zone: str = "UTC"
    include_trending: bool = False
    keywords: list[str] = field(default_factory=list)


def _enqueue(subscriber_id: int, kind: str) -> None:
    transaction.on_commit(lambda: send_subscriber_email_task.delay(subscriber_id, kind))


def _record_consent(subscriber: Subscriber, consent: Consent) -> None:
    subscriber.consent_at = consent.at or timezone.now()
    subscriber.consent_ip = consent.ip or None
    subscriber.consent_user_agent = consent.user_agent[:500]
    subscriber.consent_version = CONSENT_VERSION
    subscriber.consent_text = CONSENT_TEXT


def sign_up(choices: SignupChoices, consent: Consent) -> str:
    """Start (or restart) a double opt-in. Returns what was done, for logs and tests only: the
    reader sees the same page whatever the address's state, so nobody can probe who subscribes.

    New, pending or unsubscribed: the choices are stored and a confirmation link mailed; nothing is
    sent until it is followed. Active or paused: the stored choices are left alone (anyone may type
    any address) and the owner gets a link to their preferences instead."""
    email = normalise_email(choices.email)
    # An erased address may sign up again: only following the new confirmation link makes it
    # a reader, and that is fresh consent (status.ERASED). Every other suppression holds.
    if status.suppression_of(email) not in (None, status.ERASED):
        return "suppressed"
    # Most sign-ups are new addresses: the INSERT alone tells, and the unique index answers a
    # known one, so no lookup, lock or transaction is spent on them.
    subscriber = _new_reader(email, choices, consent)
    if _insert_if_new(subscriber, choices.topics):
        return _mail_confirmation(subscriber)
    try:
        return _sign_up_known(email, choices, consent)
    except IntegrityError:
        # The row was erased and created again by another request meanwhile: it is there now.
        return _sign_up_known(email, choices, consent)


def _new_reader(email: str, choices: SignupChoices, consent: Consent) -> Subscriber:
    subscriber = Subscriber(email=email, status=Status.PENDING)
    _store_choices(subscriber, choices, consent)
    return subscriber


def _store_choices(subscriber: Subscriber, choices: SignupChoices, consent: Consent) -> None:
    subscriber.frequency = choices.frequency
    subscriber.weekday = choices.weekday
    subscriber.delivery_hour = choices.delivery_hour
    subscriber.time_zone = choices.time_zone
    subscriber.include_trending = choices.include_trending
    subscriber.keywords = choices.keywords
    subscriber.confirm_nonce = subscriber.confirm_nonce or secrets.token_hex(16)
    _record_consent(subscriber, consent)


def _insert_if_new(subscriber: Subscriber, topics: list[Topic]) -> bool:
    """INSERT the new reader; false, with nothing written, when the address is already stored.
    A lone INSERT needs no transaction (BEGIN and COMMIT are two round trips more); with topics,
    or inside a caller's transaction, a transaction or savepoint keeps a duplicate harmless."""
    guard = transaction.atomic() if topics or connection.in_atomic_block else nullcontext()
    try:
        with guard:
            _insert(subscriber, topics)
    except IntegrityError:
        return False
    return True


def _insert(subscriber: Subscriber, topics: list[Topic]) -> None:
    subscriber.save(force_insert=True)
    if topics:  # a new row has none to compare with: one INSERT
        subscriber.topics.add(*topics)


@transaction.atomic
def _sign_up_known(email: str, choices: SignupChoices, consent: Consent) -> str:
    subscriber = Subscriber.objects.select_for_update().by_email(email)
    if subscriber is None:  # erased since the INSERT found it: new after all
        subscriber = _new_reader(email, choices, consent)
        _insert(subscriber, choices.topics)
        return _mail_confirmation(subscriber)
    if subscriber.status in status.SUPPRESSED:
        return "never-mail"
    if subscriber.status in (Status.ACTIVE, Status.PAUSED):
        if not limits.address_quota_allows(email, "manage"):
            return "quota"
        _enqueue(subscriber.id, "already-subscribed")
        return "already-subscribed"
    status.change_status(subscriber, Status.PENDING)
    _store_choices(subscriber, choices, consent)
    subscriber.save()
    subscriber.topics.set(choices.topics)
    return _mail_confirmation(subscriber)


def _mail_confirmation(subscriber: Subscriber) -> str:
    if not limits.address_quota_allows(subscriber.email, "confirm"):
        return "quota"
    _enqueue(subscriber.id, "confirm")
    return "confirmation-sent"


@transaction.atomic
def confirm(subscriber: Subscriber) -> None:
    """Make a pending subscriber active. The nonce changes, so the link cannot be used twice."""
    status.change_status(
        subscriber, Status.ACTIVE, confirmed_at=timezone.now(), unsubscribed_at=None,
        confirm_nonce=secrets.token_hex(16),
    )  # fmt: skip
    status.lift_erasure(subscriber.email)


def can_confirm(subscriber: Subscriber) -> bool:
    return subscriber.status == Status.PENDING


@transaction.atomic
def request_manage_link(email: str) -> str:
    """Mail the owner of `email` a link to their preferences (or, if still pending, a fresh
    confirmation). Same page for every address, as for sign-up."""
    email = normalise_email(email)
    subscriber = Subscriber.objects.by_email(email)
    suppressed = status.suppression_of(email) not in (None, status.ERASED)
    if subscriber is None or subscriber.status in status.SUPPRESSED or suppressed:
        return "nothing"
    kind = "confirm" if subscriber.status == Status.PENDING else "manage-link"
    if not limits.address_quota_allows(email, "confirm" if kind == "confirm" else "manage"):
        return "quota"
    _enqueue(subscriber.id, kind)
    return kind


@dataclass
class Preferences:
    topics: list[Topic]
    keywords: str
    excluded_keywords: str
    followed_authors: str
    frequency: str
    weekday: int
    paused_until: date | None
    delivery_hour: int
    time_zone: str
    max_papers: int
    min_upvotes: int
    include_trending: bool


@transaction.atomic
def update_preferences(subscriber: Subscriber, prefs: Preferences) -> None:
    """Store the preference centre's form. Choosing "paused" pauses; choosing a frequency again
    resumes a paused subscriber."""
    subscriber.keywords = split_terms(prefs.keywords)
    subscriber.excluded_keywords = split_terms(prefs.excluded_keywords)
    subscriber.followed_authors = split_terms(prefs.followed_authors)
    subscriber.weekday = prefs.weekday
    subscriber.delivery_hour = prefs.delivery_hour
    subscriber.time_zone = prefs.time_zone
    subscriber.max_papers = prefs.max_papers
    subscriber.min_upvotes = prefs.min_upvotes
    subscriber.include_trending = prefs.include_trending
    _set_frequency(subscriber, prefs.frequency, prefs.paused_until)
    subscriber.save()
    subscriber.topics.set(prefs.topics)


def _set_frequency(subscriber: Subscriber, frequency: str, paused_until: date | None) -> None:
    if frequency == Frequency.PAUSED:
        if subscriber.frequency != Frequency.PAUSED:
            subscriber.frequency_before_pause = subscriber.frequency
        subscriber.frequency = Frequency.PAUSED
        subscriber.paused_until = paused_until
        if subscriber.status == Status.ACTIVE:
            status.change_status(subscriber, Status.PAUSED)
        return
    subscriber.frequency = frequency
    subscriber.paused_until = None
    if subscriber.status == Status.PAUSED:
        status.change_status(subscriber, Status.ACTIVE)


def unsubscribe(subscriber: Subscriber) -> bool:
    """Stop all mail at once. Returns false when there was nothing to stop. Idempotent."""
    return status.change_status(subscriber, Status.UNSUBSCRIBED)


@transaction.atomic
def resubscribe(subscriber: Subscriber, consent: Consent) -> None:
    """Undo an unsubscribe from the preference centre: the signed link proves the address."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.status != Status.UNSUBSCRIBED:
        return
    back_to = Status.PAUSED if subscriber.frequency == Frequency.PAUSED else Status.ACTIVE
    status.change_status(subscriber, back_to, unsubscribed_at=None, confirmed_at=timezone.now())
    _record_consent(subscriber, consent)
    subscriber.save()


def rotate_feed_key(subscriber: Subscriber) -> None:
    """Make a new private feed link; every older one stops working."""
    subscriber.feed_key = secrets.token_urlsafe(16)
    subscriber.save(update_fields=["feed_key", "updated_at"])


def revoke_feed(subscriber: Subscriber) -> None:
    subscriber.feed_key = ""
    subscriber.save(update_fields=["feed_key", "updated_at"])


def export_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about the subscriber, for the "export my data" download."""
    fields = [
        "email", "status", "keywords", "excluded_keywords", "followed_authors", "frequency",
        "weekday", "paused_until", "delivery_hour", "time_zone", "max_papers", "min_upvotes",
        "include_trending", "consent_at", "consent_ip", "consent_user_agent", "consent_version",
        "consent_text", "confirmed_at", "unsubscribed_at", "created_at", "updated_at",
    ]  # fmt: skip
    data: dict[str, Any] = {"id": str(subscriber.public_id)}
    for name in fields:
        value = getattr(subscriber, name)
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["topics"] = [{"slug": t.slug, "name": t.name} for t in subscriber.topics.all()]
    data["votes"] = [
        {
            "paper": v.paper.arxiv_id,
            "title": v.paper.title,
            "vote": "more" if v.value > 0 else "less",
            "at": v.created_at.isoformat(),
        }
        for v in subscriber.votes.select_related("paper")
    ]
    data["private_feed"] = bool(subscriber.feed_key)
    learned = getattr(subscriber, "learned", None)
    data["learned_model"] = (
        {"votes_used": learned.votes_used, "weights": learned.weights} if learned else None
    )
    return data


@transaction.atomic
def erase(subscriber: Subscriber) -> None:
    """Delete the subscriber and everything attached; keep a keyed hash of the address so it is
    never mailed again unless its owner signs up and confirms anew (a curator can lift it too)."""
    # A bounced or complained address keeps that reason: it stays suppressed whatever is posted.
    reason = subscriber.status if subscriber.status in status.SUPPRESSED else status.ERASED
    status.forget_address(subscriber.email, reason)
    subscriber.delete()
