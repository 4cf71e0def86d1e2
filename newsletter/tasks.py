from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.delivery import retry_delay, run_tick, send_chunk
from newsletter.heartbeat import record_heartbeat


@shared_task(ignore_result=True, acks_late=True)
def heartbeat_task(source: str = "worker") -> None:
    record_heartbeat(source)


def dispatch_after_commit(chunk: list[int]) -> None:
    transaction.on_commit(lambda: send_chunk_task.delay(chunk))


@shared_task(ignore_result=True)
def digest_tick_task() -> None:
    with transaction.atomic():
        run_tick(timezone.now(), dispatch_after_commit)


# acks_late: a chunk redelivered after a crash is harmless, it only sends rows still pending.
@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=None)
def send_chunk_task(self, delivery_ids: list[int]) -> None:
    attempt = self.request.retries + 1
    counts = send_chunk(delivery_ids, give_up=attempt >= settings.DIGEST_MAX_ATTEMPTS)
    if counts.retry:
        raise self.retry(args=[counts.retry], countdown=retry_delay(attempt))


# acks_late: applying an event twice is a no-op (processed_at), losing it is not.
@shared_task(ignore_result=True, acks_late=True)
def apply_delivery_event_task(event_id: int) -> None:
    from newsletter.tracking import apply_event

    apply_event(event_id)


@shared_task(ignore_result=True)
def apply_lost_delivery_events_task() -> None:
    """Apply events whose task never ran (the broker was down when the webhook came)."""
    from newsletter.tracking import apply_event, unapplied_event_ids

    for event_id in unapplied_event_ids():
        apply_event(event_id)
