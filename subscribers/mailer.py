"""The emails of the subscription flow, built from templates/emails/<kind>*.

Called by the Celery task with ids: the subscriber is read again at send time, so a message is
not sent if the reader has meanwhile confirmed, unsubscribed or erased their data.
"""

import logging

from config.emails import send_email
from subscribers import tokens
from subscribers.models import Subscriber
from subscribers.status import MAIL, may_be_mailed

log = logging.getLogger(__name__)


def send_subscriber_email(subscriber_id: int, kind: str) -> bool:
    """Send one flow email; returns whether one was sent."""
    if kind not in MAIL or kind == "digest":
        raise ValueError(f"unknown subscriber email {kind!r}")
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if not may_be_mailed(subscriber, kind):
        log.info("not sending %s to subscriber %s: gone, suppressed or status changed", kind, subscriber_id)
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
