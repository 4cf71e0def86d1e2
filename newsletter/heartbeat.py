from datetime import timedelta

from django.utils import timezone

from newsletter.models import Heartbeat

# Beat sends one every 30 s; ten missed ones mean nothing is consuming the queue.
STALE_AFTER = timedelta(minutes=5)


def record_heartbeat(source: str) -> None:
    Heartbeat.objects.update_or_create(source=source, defaults={"seen_at": timezone.now()})


def heartbeat_state(source: str = "worker") -> str:
    """'ok', 'stale' or 'unknown' (never seen)."""
    seen_at = Heartbeat.objects.filter(source=source).values_list("seen_at", flat=True).first()
    if seen_at is None:
        return "unknown"
    return "ok" if timezone.now() - seen_at < STALE_AFTER else "stale"
