"""ESP tracking webhooks: Anymail parses each ESP's payload into an `AnymailTrackingEvent`;
we store it once (ESPs resend) and let a worker apply it to the ledger and the subscriber.

The webhook request only inserts one row and enqueues a task after commit, so an ESP posting a
burst of events is answered at once. Applying is idempotent: an event is applied once
(`processed_at`), and a delivery's ESP status only moves towards the more telling outcome.
"""

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from newsletter.models import Delivery, DeliveryEvent, EspStatus
from subscribers.models import Status, Subscriber

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
# Raw bounce types that Anymail reports as "bounced" although the ESP says they are temporary.
SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}
# Which statuses each suppression may replace: a stronger one (a complaint) is never undone.
MAILABLE = [Status.PENDING, Status.ACTIVE, Status.PAUSED]
REPLACES = {
    Status.UNSUBSCRIBED: MAILABLE,
    Status.BOUNCED: [*MAILABLE, Status.UNSUBSCRIBED],
    Status.COMPLAINED: [*MAILABLE, Status.UNSUBSCRIBED, Status.BOUNCED],
}


def as_json(value: Any) -> Any:
    """The ESP's raw event as JSON (Mailgun's legacy webhooks hand over a QueryDict)."""
    if hasattr(value, "lists"):
        value = {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    return json.loads(json.dumps(value, default=str))


def is_soft(event: AnymailTrackingEvent) -> bool:
    if event.event_type == EventType.DEFERRED:
        return True
    if event.event_type != EventType.BOUNCED or not isinstance(event.esp_event, dict):
        return False
    raw = event.esp_event
    bounce = raw.get("bounce") if isinstance(raw.get("bounce"), dict) else {}  # Amazon SES
    kinds = {raw.get("Type"), bounce.get("bounceType")}
    event_data = raw.get("event-data") if isinstance(raw.get("event-data"), dict) else {}
    return bool(kinds & SOFT_BOUNCE_TYPES) or event_data.get("severity") == "temporary"


def dedupe_key(event: AnymailTrackingEvent, esp_name: str) -> str:
    """The ESP's event id when it gives one; else a hash of what makes an event unique."""
    if event.event_id:
        return str(event.event_id)[:255]
    parts = [esp_name, event.event_type, event.message_id, event.recipient, event.timestamp]
    digest = hashlib.sha256("|".join(str(p or "") for p in parts).encode()).hexdigest()
    return f"sha256:{digest}"


def record_event(event: AnymailTrackingEvent, esp_name: str) -> DeliveryEvent | None:
    """Store the event; None when this ESP sent it before."""
    row = DeliveryEvent(
        esp=esp_name.lower()[:32],
        event_type=str(event.event_type)[:20],
        dedupe_key=dedupe_key(event, esp_name),
        esp_event_id=str(event.event_id or "")[:255],
        message_id=str(event.message_id or "")[:255],
        recipient=str(event.recipient or "")[:254],
        occurred_at=event.timestamp,
        reject_reason=str(event.reject_reason or "")[:32],
        description=str(event.description or ""),
        mta_response=str(event.mta_response or ""),
        soft=is_soft(event),
        payload={"metadata": as_json(event.metadata or {}), "esp_event": as_json(event.esp_event)},
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    return row


def on_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    """Anymail's `tracking` signal: record, then apply in a worker once committed."""
    from newsletter.tasks import apply_delivery_event_task

    row = record_event(event, esp_name)
    if row is not None:
        transaction.on_commit(lambda: apply_delivery_event_task.delay(row.pk))


# --- applying an event (in a worker) -------------------------------------------------------------
def find_delivery(row: DeliveryEvent) -> Delivery | None:
    delivery_id = str(row.payload.get("metadata", {}).get("delivery_id", ""))
    if delivery_id.isdigit():
        found = Delivery.objects.select_related("subscriber").filter(pk=int(delivery_id)).first()
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


def suppress(subscriber: Subscriber, status: str, reason: str) -> bool:
    """Stop mail to `subscriber` now: a conditional update, so a stronger status stays, and their
    digests not yet claimed by a worker are failed so none goes out after this."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "updated_at": now}
    if status == Status.UNSUBSCRIBED:
        fields["unsubscribed_at"] = now
    changed = Subscriber.objects.filter(pk=subscriber.pk, status__in=REPLACES[status]).update(**fields)
    Delivery.objects.filter(subscriber=subscriber, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, error=f"not sent: reader suppressed ({reason})"
    )
    return bool(changed)


def subscriber_action(row: DeliveryEvent, subscriber: Subscriber) -> str:
    """What the event does to the reader; returns a short outcome for the event log."""
    kind, reason = row.event_type, row.reject_reason
    if kind == EventType.COMPLAINED or (kind == EventType.REJECTED and reason == RejectReason.SPAM):
        return "suppressed: complained" if suppress(subscriber, Status.COMPLAINED, "complaint") else ""
    if kind == EventType.UNSUBSCRIBED or reason == RejectReason.UNSUBSCRIBED:
        return "unsubscribed" if suppress(subscriber, Status.UNSUBSCRIBED, "ESP unsubscribe") else ""
    hard = (kind == EventType.BOUNCED and not row.soft) or (
        kind == EventType.REJECTED and reason in (RejectReason.BOUNCED, RejectReason.INVALID)
    )
    if hard:
        return "suppressed: hard bounce" if suppress(subscriber, Status.BOUNCED, "hard bounce") else ""
    if row.soft:
        count = soft_bounces_since_delivered(subscriber)
        if count >= settings.ESP_SOFT_BOUNCE_LIMIT and suppress(subscriber, Status.BOUNCED, "soft bounces"):
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
