"""The emails of the subscription flow, built from templates/emails/<kind>*.

Called by the Celery task with ids: the subscriber is read again at send time, so a message is
not sent if the reader has meanwhile confirmed, unsubscribed or erased their data.
"""

import logging

from newsletter.emails import send_email
from subscribers import tokens
from subscribers.models import Status, Subscriber
from subscribers.services import NEVER_MAIL, is_suppressed

log = logging.getLogger(__name__)

# Which statuses each email still makes sense for when the worker gets to it.
KINDS: dict[str, set[str]] = {
    "confirm": {Status.PENDING},
    "already-subscribed": {Status.ACTIVE, Status.PAUSED},
    "manage-link": {Status.ACTIVE, Status.PAUSED, Status.UNSUBSCRIBED},
}


def send_subscriber_email(subscriber_id: int, kind: str) -> bool:
    """Send one flow email; returns whether one was sent."""
    if kind not in KINDS:
        raise ValueError(f"unknown subscriber email {kind!r}")
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status not in KINDS[kind] or subscriber.status in NEVER_MAIL:
        log.info("not sending %s to subscriber %s: gone or status changed", kind, subscriber_id)
        return False
    if is_suppressed(subscriber.email):
        return False
    context = {
        "subscriber": subscriber,
        "topics": list(subscriber.topics.filter(active=True)),
        "confirm_url": tokens.confirm_url(subscriber) if kind == "confirm" else "",
        "manage_url": tokens.manage_url(subscriber),
        "confirm_days": tokens.CONFIRM.max_age.days,
        "manage_days": tokens.MANAGE.max_age.days,
    }
    send_email(kind, context, [subscriber.email], headers={"Auto-Submitted": "auto-generated"})
    return True
