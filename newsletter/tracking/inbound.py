"""ESP tracking webhooks in: Anymail parses each ESP's payload into an `AnymailTrackingEvent`;
we store it once (ESPs resend) and let a worker apply it (newsletter.tracking.events).

The webhook request only inserts one row and enqueues a task after commit, so an ESP posting a
burst of events is answered at once.
"""

import hashlib
import json
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType
from django.db import IntegrityError, transaction

from newsletter.models import DeliveryEvent

# Raw bounce types that Anymail reports as "bounced" although the ESP says they are temporary.
SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}


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
