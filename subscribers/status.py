"""A reader's status: the one module that changes it, and the one answer to "may we mail them?".

Sign-up flows, ESP events (bounces, complaints) and the send path all come here. Every change is
a conditional UPDATE along the ladder below, so two writers racing (a reader unsubscribing while
a bounce arrives) end on the stronger status, never on whichever wrote last.
"""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from subscribers.models import Frequency, Status, Subscriber, SuppressedAddress, normalise_email

# Who may replace whom. A suppression only moves up (unsubscribed < bounced < complained); only
# the reader's own consent (sign-up, confirmation, resubscribe) brings back an unsubscribed one.
_MAILABLE = {Status.PENDING, Status.ACTIVE, Status.PAUSED}
REPLACES: dict[str, set[str]] = {
    Status.PENDING: {Status.PENDING, Status.UNSUBSCRIBED},
    Status.ACTIVE: {Status.PENDING, Status.PAUSED, Status.UNSUBSCRIBED},
    Status.PAUSED: {Status.ACTIVE, Status.UNSUBSCRIBED},
    Status.UNSUBSCRIBED: _MAILABLE,
    Status.BOUNCED: {*_MAILABLE, Status.UNSUBSCRIBED},
    Status.COMPLAINED: {*_MAILABLE, Status.UNSUBSCRIBED, Status.BOUNCED},
}
SUPPRESSED = {Status.BOUNCED, Status.COMPLAINED}

# Which statuses may get each kind of mail when it is sent (not only when it was queued).
MAIL = {
    "digest": {Status.ACTIVE},
    "confirm": {Status.PENDING},
    "already-subscribed": {Status.ACTIVE, Status.PAUSED},
    "manage-link": {Status.ACTIVE, Status.PAUSED, Status.UNSUBSCRIBED},
}
# Why an address's hash is kept after its row is gone. Only the owner's own erasure gives way to a
# fresh double opt-in: following a new confirmation link is fresh consent. A curator's
# suppression, a bounce or a complaint never does.
ERASED = "erased"


def address_hash(email: str) -> str:
    return salted_hmac(
        "paperboy.subscribers.suppression", normalise_email(email), algorithm="sha256"
    ).hexdigest()


def suppression_of(email: str) -> str | None:
    """Why `email` is on the suppression list, or None."""
    # values_list()[:1], not first(): the hash is unique, so no ORDER BY and no model instance.
    reasons = SuppressedAddress.objects.filter(address_hash=address_hash(email)).values_list(
        "reason", flat=True
    )
    return next(iter(reasons[:1]), None)


def may_be_mailed(subscriber: Subscriber | None, mail: str = "digest") -> bool:
    """Whether `subscriber` may get this kind of mail now."""
    if subscriber is None or subscriber.status not in MAIL[mail]:
        return False
    reason = suppression_of(subscriber.email)
    return reason is None or (reason == ERASED and mail == "confirm")


def mailable_q(mail: str = "digest", via: str = "") -> Q:
    """The same rule in SQL, for the send path (`via` is the lookup path to the subscriber, e.g.
    "subscriber__"). An address hash never outlives a digest reader's row (erasure deletes it; a
    curator's suppression also unsubscribes), so the status alone decides here."""
    return Q(**{f"{via}status__in": sorted(MAIL[mail])})


def change_status(subscriber: Subscriber, status: str, **fields: Any) -> bool:
    """Move the reader to `status` if the ladder allows it from where they are now; `fields` are
    written with it. Returns whether it changed. Updates `subscriber` in memory too."""
    now = timezone.now()
    if status == Status.UNSUBSCRIBED:
        fields.setdefault("unsubscribed_at", now)
    changed = Subscriber.objects.filter(pk=subscriber.pk, status__in=REPLACES[status]).update(
        status=status, updated_at=now, **fields
    )
    if changed:
        subscriber.status = status
        for name, value in fields.items():
            setattr(subscriber, name, value)
    return bool(changed)


def suppress(subscriber: Subscriber, status: str) -> bool:
    """Stop mail to the reader now (unsubscribed, bounced or complained). Digests already queued
    for them are settled unsent by the send path's claim, which asks `mailable`."""
    return change_status(subscriber, status)


def suppress_ids(subscriber_ids: list[int], status: str) -> int:
    """`suppress` for many readers at once (a chunk's hard bounces)."""
    rows = Subscriber.objects.filter(pk__in=subscriber_ids, status__in=REPLACES[status])
    return rows.update(status=status, updated_at=timezone.now())


def forget_address(email: str, reason: str) -> None:
    """Keep only a keyed hash of `email`, so it is recognised without being stored."""
    SuppressedAddress.objects.get_or_create(address_hash=address_hash(email), defaults={"reason": reason})


def lift_erasure(email: str) -> None:
    """The owner of an erased address confirmed a new sign-up: their fresh consent replaces it."""
    SuppressedAddress.objects.filter(address_hash=address_hash(email), reason=ERASED).delete()


def resume_due_pauses(today: date) -> int:
    """Resume every pause whose end date has come, at the frequency it had before. Returns how many."""
    resumed = 0
    due = Subscriber.objects.filter(frequency=Frequency.PAUSED, paused_until__lte=today)
    for subscriber in due.iterator():
        # A conditional update: a reader who changed it meanwhile keeps their change.
        with transaction.atomic():
            changed = Subscriber.objects.filter(pk=subscriber.pk, frequency=Frequency.PAUSED).update(
                frequency=subscriber.frequency_before_pause, paused_until=None, updated_at=timezone.now()
            )
            if changed and subscriber.status == Status.PAUSED:
                change_status(subscriber, Status.ACTIVE)
        resumed += changed
    return resumed
