"""What happens to a subscriber: sign-up, confirmation, preferences, pause, unsubscribe, erasure.

Views call these and nothing else writes a Subscriber. Emails are enqueued after the transaction
commits, so a rolled-back request sends nothing.
"""

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from newsletter.matching import split_terms
from subscribers import limits
from subscribers.models import Frequency, Status, Subscriber, SuppressedAddress, Topic

# Shown beside the sign-up button and stored with each consent; bump the version when it changes.
CONSENT_VERSION = "signup-2025-01"
CONSENT_TEXT = (
    "Email me the papers that match my choices, at the frequency I picked. "
    "I can change my choices, pause, export or delete my data, or unsubscribe from any email."
)

# Statuses that never receive anything again unless a curator changes them.
NEVER_MAIL = {Status.BOUNCED, Status.COMPLAINED}


def normalise_email(raw: str) -> str:
    """One spelling per address: NFC, trimmed, lower-case (mailbox parts are case-insensitive
    in practice, and a second row for "Alice@" would double every digest)."""
    return unicodedata.normalize("NFC", raw.strip()).lower()


def address_hash(email: str) -> str:
    return salted_hmac(
        "paperboy.subscribers.suppression", normalise_email(email), algorithm="sha256"
    ).hexdigest()


def is_suppressed(email: str) -> bool:
    return SuppressedAddress.objects.filter(address_hash=address_hash(email)).exists()


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


def _enqueue(subscriber_id: int, kind: str) -> None:
    from subscribers.tasks import send_subscriber_email_task

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
    try:
        return _sign_up(choices, consent)
    except IntegrityError:
        # Two requests created the same new address at once: the second now finds the row.
        return _sign_up(choices, consent)


@transaction.atomic
def _sign_up(choices: SignupChoices, consent: Consent) -> str:
    email = normalise_email(choices.email)
    if is_suppressed(email):
        return "suppressed"
    subscriber = Subscriber.objects.select_for_update().with_email(email).first()
    if subscriber is not None and subscriber.status in NEVER_MAIL:
        return "never-mail"
    if subscriber is not None and subscriber.status in (Status.ACTIVE, Status.PAUSED):
        if not limits.address_quota_allows(email, "manage"):
            return "quota"
        _enqueue(subscriber.id, "already-subscribed")
        return "already-subscribed"

    is_new = subscriber is None
    subscriber = subscriber or Subscriber(email=email)
    subscriber.status = Status.PENDING
    subscriber.frequency = choices.frequency
    subscriber.weekday = choices.weekday
    subscriber.delivery_hour = choices.delivery_hour
    subscriber.time_zone = choices.time_zone
    subscriber.confirm_nonce = subscriber.confirm_nonce or secrets.token_hex(16)
    _record_consent(subscriber, consent)
    subscriber.save()
    if not is_new:
        subscriber.topics.set(choices.topics)
    elif choices.topics:  # a new row has none to compare with: one INSERT
        subscriber.topics.add(*choices.topics)
    if not limits.address_quota_allows(email, "confirm"):
        return "quota"
    _enqueue(subscriber.id, "confirm")
    return "confirmation-sent"


@transaction.atomic
def confirm(subscriber: Subscriber) -> None:
    """Make a pending subscriber active. The nonce changes, so the link cannot be used twice."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    subscriber.status = Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.confirm_nonce = secrets.token_hex(16)
    subscriber.save(
        update_fields=["status", "confirmed_at", "unsubscribed_at", "confirm_nonce", "updated_at"]
    )


def can_confirm(subscriber: Subscriber) -> bool:
    return subscriber.status == Status.PENDING


@transaction.atomic
def request_manage_link(email: str) -> str:
    """Mail the owner of `email` a link to their preferences (or, if still pending, a fresh
    confirmation). Same page for every address, as for sign-up."""
    email = normalise_email(email)
    subscriber = Subscriber.objects.with_email(email).first()
    if subscriber is None or subscriber.status in NEVER_MAIL or is_suppressed(email):
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
            subscriber.status = Status.PAUSED
        return
    subscriber.frequency = frequency
    subscriber.paused_until = None
    if subscriber.status == Status.PAUSED:
        subscriber.status = Status.ACTIVE


def resume_due_pauses(today: date) -> int:
    """Resume every pause whose end date has come, at the frequency it had before. Returns how many."""
    resumed = 0
    due = Subscriber.objects.filter(frequency=Frequency.PAUSED, paused_until__lte=today)
    for subscriber in due.iterator():
        # A conditional update: a reader who changed it meanwhile keeps their change.
        resumed += Subscriber.objects.filter(pk=subscriber.pk, frequency=Frequency.PAUSED).update(
            frequency=subscriber.frequency_before_pause,
            paused_until=None,
            status=Status.ACTIVE if subscriber.status == Status.PAUSED else subscriber.status,
            updated_at=timezone.now(),
        )
    return resumed


def unsubscribe(subscriber: Subscriber) -> bool:
    """Stop all mail at once. Returns false when there was nothing to stop. Idempotent."""
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status__in=[Status.PENDING, Status.ACTIVE, Status.PAUSED]
    ).update(status=Status.UNSUBSCRIBED, unsubscribed_at=timezone.now(), updated_at=timezone.now())
    return bool(changed)


@transaction.atomic
def resubscribe(subscriber: Subscriber, consent: Consent) -> None:
    """Undo an unsubscribe from the preference centre: the signed link proves the address."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.status != Status.UNSUBSCRIBED:
        return
    _record_consent(subscriber, consent)
    subscriber.status = Status.PAUSED if subscriber.frequency == Frequency.PAUSED else Status.ACTIVE
    subscriber.unsubscribed_at = None
    subscriber.confirmed_at = timezone.now()
    subscriber.save()


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
    never mailed again (a curator can lift that in the admin)."""
    SuppressedAddress.objects.get_or_create(address_hash=address_hash(subscriber.email))
    subscriber.delete()
