"""Thin Celery tasks: ids in, a plain function of the packages called. Names are pinned: beat
rows and queued messages store them."""

from typing import Any

from anymail.signals import AnymailTrackingEvent
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.heartbeat import record_heartbeat
from newsletter.sending.delivery import retry_delay, send_chunk
from newsletter.sending.tick import run_tick
from newsletter.tracking.events import apply_event, unapplied_event_ids
from newsletter.tracking.inbound import record_event


@shared_task(name="newsletter.tasks.heartbeat_task", ignore_result=True, acks_late=True)
def heartbeat_task(source: str = "worker") -> None:
    record_heartbeat(source)


def dispatch_after_commit(chunk: list[int]) -> None:
    transaction.on_commit(lambda: queue_chunk(chunk))


def queue_chunk(delivery_ids: list[int]) -> None:
    # Celery writes a repr of the arguments into each message for logs and monitors; built from
    # 500 ids it was half the cost of queueing a chunk (0.3 of 0.6 ms, 0.27 s of a 100,000-reader
    # tick's dispatching on a loaded machine). This one names the chunk in a few characters.
    send_chunk_task.apply_async((delivery_ids,), argsrepr=chunk_repr(delivery_ids), kwargsrepr="{}")


def chunk_repr(delivery_ids: list[int]) -> str:
    """'([12, ..., 511] (500 delivery ids),)': what logs and monitors show of a chunk's task."""
    if len(delivery_ids) <= 3:
        return repr((delivery_ids,))
    return f"([{delivery_ids[0]}, ..., {delivery_ids[-1]}] ({len(delivery_ids)} delivery ids),)"


@shared_task(name="newsletter.tasks.digest_tick_task", ignore_result=True)
def digest_tick_task() -> None:
    # Not one transaction: the tick commits its rows in batches, each dispatched once committed.
    run_tick(timezone.now(), dispatch_after_commit)


# acks_late: a chunk redelivered after a crash is harmless, it only sends rows still pending.
@shared_task(
    name="newsletter.tasks.send_chunk_task", bind=True, ignore_result=True, acks_late=True, max_retries=None
)
def send_chunk_task(self, delivery_ids: list[int]) -> None:
    attempt = self.request.retries + 1
    counts = send_chunk(delivery_ids, give_up=attempt >= settings.DIGEST_MAX_ATTEMPTS)
    if counts.deferred:  # the send rate left no slot for these in time: a fresh task, no backoff
        queue_chunk(counts.deferred)
    if counts.retry:
        raise self.retry(args=[counts.retry], countdown=retry_delay(attempt))


# acks_late: applying an event twice is a no-op (processed_at), losing it is not.
@shared_task(name="newsletter.tasks.apply_delivery_event_task", ignore_result=True, acks_late=True)
def apply_delivery_event_task(event_id: int) -> None:
    apply_event(event_id)


@shared_task(name="newsletter.tasks.apply_lost_delivery_events_task", ignore_result=True)
def apply_lost_delivery_events_task() -> None:
    """Apply events whose task never ran (the broker was down when the webhook came)."""
    for event_id in unapplied_event_ids():
        apply_event(event_id)


def on_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    """Anymail's `tracking` signal (connected in NewsletterConfig.ready): record the event in the
    webhook's request, then apply it in a worker once committed."""
    row = record_event(event, esp_name)
    if row is not None:
        transaction.on_commit(lambda: apply_delivery_event_task.delay(row.pk))
