"""Applying a stored ESP event (newsletter.tracking.inbound stores them) in a worker: the
delivery's ESP status, and the reader's status through subscribers.status.

Applying is idempotent: an event is applied once (`processed_at`), and a delivery's ESP status
only moves towards the more telling outcome.
"""

import logging
from datetime import timedelta
from typing import Any

from anymail.signals import EventType, RejectReason
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.ids import id_from
from newsletter.models import Delivery, DeliveryEvent, EspStatus
from newsletter.sending.delivery import settle_pending_of
from subscribers.models import Status, Subscriber
from subscribers.status import suppress

log = logging.getLogger(__name__)

# A delivery's ESP status only moves up this ladder: a late "delivered" never hides a complaint.
RANK = {
    EspStatus.DEFERRED: 1,
    EspStatus.DELIVERED: 2,
    EspStatus.REJECTED: 3,
    EspStatus.BOUNCED: 3,
    EspStatus.UNSUBSCRIBED: 4,
    EspStatus.COMPLAINED: 5,
}


# --- applying an event (in a worker) -------------------------------------------------------------
def find_delivery(row: DeliveryEvent) -> Delivery | None:
    # Ours, echoed by the ESP; anything else (digits of another script, which int() reads) is none.
    delivery_id = id_from(str(row.payload.get("metadata", {}).get("delivery_id", "")))
    if delivery_id is not None:
        found = Delivery.objects.select_related("subscriber").filter(pk=delivery_id).first()
        if found is not None:
            return found
    if row.message_id:
        bare = row.message_id.strip("<>")
        ids = [bare, f"<{bare}>"]
        return Delivery.objects.select_related("subscriber").filter(esp_message_id__in=ids).first()
    return None


def esp_status_of(row: DeliveryEvent) -> str | None:
    if row.event_type == EventType.DELIVERED:
        return EspStatus.DELIVERED
    if row.event_type == EventType.COMPLAINED:
        return EspStatus.COMPLAINED
    if row.event_type == EventType.UNSUBSCRIBED:
        return EspStatus.UNSUBSCRIBED
    if row.event_type == EventType.REJECTED:
        return EspStatus.REJECTED
    if row.event_type in (EventType.BOUNCED, EventType.DEFERRED):
        return EspStatus.DEFERRED if row.soft else EspStatus.BOUNCED
    return None


def update_delivery(delivery: Delivery, status: str, at: Any) -> None:
    current = RANK.get(delivery.esp_status, 0) if delivery.esp_status else 0
    if RANK[status] >= current:
        Delivery.objects.filter(pk=delivery.pk).update(esp_status=status, esp_status_at=at)


def soft_bounces_since_delivered(subscriber: Subscriber) -> int:
    events = DeliveryEvent.objects.filter(subscriber=subscriber)
    last_ok = events.filter(event_type=EventType.DELIVERED).order_by("-received_at").first()
    soft = events.filter(soft=True)
    if last_ok is not None:
        soft = soft.filter(received_at__gt=last_ok.received_at)
    return soft.count()


def subscriber_action(row: DeliveryEvent, subscriber: Subscriber) -> str:
    """What the event does to the reader; returns a short outcome for the event log."""
    kind, reason = row.event_type, row.reject_reason
    if kind == EventType.COMPLAINED or (kind == EventType.REJECTED and reason == RejectReason.SPAM):
        return "suppressed: complained" if suppress(subscriber, Status.COMPLAINED) else ""
    if kind == EventType.UNSUBSCRIBED or reason == RejectReason.UNSUBSCRIBED:
        return "unsubscribed" if suppress(subscriber, Status.UNSUBSCRIBED) else ""
    hard = (kind == EventType.BOUNCED and not row.soft) or (
        kind == EventType.REJECTED and reason in (RejectReason.BOUNCED, RejectReason.INVALID)
    )
    if hard:
        return "suppressed: hard bounce" if suppress(subscriber, Status.BOUNCED) else ""
    if row.soft:
        count = soft_bounces_since_delivered(subscriber)
        if count >= settings.ESP_SOFT_BOUNCE_LIMIT and suppress(subscriber, Status.BOUNCED):
            return f"suppressed: {count} soft bounces"
        return f"soft bounce {count} of {settings.ESP_SOFT_BOUNCE_LIMIT}"
    return ""


def apply_event(event_id: int) -> str:
    """Apply a stored event once: update its delivery's ESP status and suppress the reader
    when the event says so. Returns the outcome recorded on the event."""
    with transaction.atomic():
        row = DeliveryEvent.objects.select_for_update().filter(pk=event_id, processed_at=None).first()
        if row is None:
            return "already applied"
        delivery = find_delivery(row)
        subscriber = delivery.subscriber if delivery else None
        if subscriber is None and row.recipient:
            subscriber = Subscriber.objects.filter(email__iexact=row.recipient).first()
        row.delivery, row.subscriber = delivery, subscriber
        # Saved before counting soft bounces, which counts this one.
        row.save(update_fields=["delivery", "subscriber"])
        status = esp_status_of(row)
        if delivery is not None and status is not None:
            update_delivery(delivery, status, row.occurred_at or timezone.now())
        outcome = subscriber_action(row, subscriber) if subscriber is not None else "no such reader"
        if subscriber is not None and outcome.startswith(("suppressed", "unsubscribed")):
            settle_pending_of(subscriber.pk)
        row.processed_at, row.outcome = timezone.now(), outcome[:200]
        row.save(update_fields=["processed_at", "outcome"])
    log.info("ESP event %s (%s %s): %s", row.pk, row.esp, row.event_type, outcome or "recorded")
    return outcome


def unapplied_event_ids(older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Events whose task was lost (a broker outage at the wrong moment)."""
    cutoff = timezone.now() - older_than
    return list(
        DeliveryEvent.objects.filter(Q(processed_at=None), received_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
