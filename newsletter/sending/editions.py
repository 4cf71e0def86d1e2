"""Editions: building one per listing day and choosing which one is being sent."""

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.models import Delivery, Edition
from papers.models import Paper
from papers.scores import compute_scores
from subscribers.models import Topic

# An edition older than this is never sent to someone who missed it: news goes stale.
SEND_WINDOW = timedelta(days=2)


def papers_listed_on(day: date) -> list[Paper]:
    return list(Paper.objects.filter(listings__listed_on=day).distinct().order_by("-upvotes", "arxiv_id"))


def refresh_scores(edition: Edition) -> Edition:
    """Recompute the precomputed scores (after a re-scrape or a curator's change of topics)."""
    papers = papers_listed_on(edition.listed_on)
    papers += [p for p in edition.picks.all() if p not in papers]
    edition.scores = compute_scores(papers, list(Topic.objects.filter(active=True)))
    edition.save(update_fields=["scores"])
    return edition


def build_edition(day: date, status: str | None = None) -> Edition | None:
    """Create the edition of `day` from the papers stored for it, once. None when the day has
    no papers (weekends): an empty edition is never sent."""
    existing = Edition.objects.filter(listed_on=day).first()
    if existing is not None:
        return existing
    if not Paper.objects.filter(listings__listed_on=day).exists():
        return None
    status = status or (
        Edition.Status.DRAFT if settings.EDITION_REQUIRES_APPROVAL else Edition.Status.SCHEDULED
    )
    released_at = timezone.now() if status == Edition.Status.SCHEDULED else None
    with transaction.atomic():
        edition, created = Edition.objects.get_or_create(
            listed_on=day, defaults={"status": status, "released_at": released_at}
        )
        if created:
            refresh_scores(edition)
    return edition


def build_due_edition(now: datetime) -> Edition | None:
    """Today's edition once the listing has settled (EDITION_SETTLE_HOUR, UTC)."""
    if now.astimezone(UTC).hour < settings.EDITION_SETTLE_HOUR:
        return None
    return build_edition(now.astimezone(UTC).date())


def current_edition(now: datetime) -> Edition | None:
    """The edition a tick sends: the newest one of the last SEND_WINDOW, if it is released.
    A newest edition that is held or still a draft stops the tick, rather than sending an older one."""
    today = now.astimezone(UTC).date()
    newest = Edition.objects.filter(listed_on__gte=today - SEND_WINDOW, listed_on__lte=today).first()
    return newest if newest is not None and newest.is_released else None


def editions_of_week(edition: Edition) -> list[Edition]:
    """The released editions of the seven days ending with `edition`, for weekly readers."""
    start = edition.listed_on - timedelta(days=6)
    return [
        e
        for e in Edition.objects.filter(
            listed_on__gte=start, listed_on__lte=edition.listed_on
        ).prefetch_related("picks", "hidden")
        if e.is_released
    ]


def close_finished_editions(current: Edition | None) -> int:
    """Editions older than the current one with nothing in flight are sent."""
    older = Edition.objects.filter(status__in=[Edition.Status.SCHEDULED, Edition.Status.SENDING])
    if current is not None:
        older = older.filter(listed_on__lt=current.listed_on)
    in_flight = Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
    older = older.exclude(deliveries__in=in_flight)
    return older.update(status=Edition.Status.SENT, sent_at=timezone.now())
