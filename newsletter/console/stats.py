"""Numbers for curators: per-edition delivery statistics and the dashboard's daily series.

Every function is a handful of aggregate queries, whatever the number of rows.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from newsletter.models import Delivery, EspStatus
from papers.models import PaperListing
from subscribers.models import Status, Subscriber, Topic

STAT_NAMES = ["sent", "delivered", "bounced", "complained", "unsubscribed", "failed"]
# The send rate is measured over this window: long enough to smooth a worker's bursts, short
# enough that a stalled send shows as stalled within a minute.
RATE_WINDOW = timedelta(seconds=60)


def unsubscribed_after() -> Exists:
    """The reader unsubscribed (any way) after this digest and before any later one."""
    # A later digest sent before the unsubscribe takes the blame instead.
    later = Delivery.objects.filter(
        subscriber=OuterRef(OuterRef("subscriber")),
        status=Delivery.Status.SENT,
        sent_at__gt=OuterRef(OuterRef("sent_at")),
        sent_at__lte=OuterRef("unsubscribed_at"),
    )
    left = Subscriber.objects.filter(
        pk=OuterRef("subscriber"), status=Status.UNSUBSCRIBED, unsubscribed_at__gte=OuterRef("sent_at")
    )
    return Exists(left.exclude(Exists(later)))


def stat_aggregates() -> dict[str, Count]:
    sent = Q(status=Delivery.Status.SENT)
    return {
        "sent": Count("pk", filter=sent),
        "delivered": Count(
            "pk",
            filter=sent
            & Q(esp_status__in=[EspStatus.DELIVERED, EspStatus.COMPLAINED, EspStatus.UNSUBSCRIBED]),
        ),
        "bounced": Count("pk", filter=Q(esp_status__in=[EspStatus.BOUNCED, EspStatus.REJECTED])),
        "complained": Count("pk", filter=Q(esp_status=EspStatus.COMPLAINED)),
        "unsubscribed": Count(
            "pk", filter=Q(esp_status=EspStatus.UNSUBSCRIBED) | (sent & Q(unsubscribed_after=True))
        ),
        "failed": Count("pk", filter=Q(status=Delivery.Status.FAILED)),
    }


def edition_stats(edition_ids: list[int]) -> dict[int, dict[str, int]]:
    """{edition id: {"sent": n, "delivered": n, ...}} in one query."""
    rows = (
        Delivery.objects.filter(edition_id__in=edition_ids)
        .annotate(unsubscribed_after=unsubscribed_after())
        .values("edition_id")
        .order_by()
        .annotate(**stat_aggregates())
    )
    stats = {eid: dict.fromkeys(STAT_NAMES, 0) for eid in edition_ids}
    for row in rows:
        stats[row.pop("edition_id")] = row
    return stats


# --- sends in progress ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendProgress:
    """One edition's send, as counted at `now`. `rate` is measured (SENT rows in the last
    RATE_WINDOW), not configured, so the finish time reflects what the ESP actually accepts."""

    edition_id: int
    listed_on: date
    due: int  # every delivery row of the edition
    done: int  # rows no longer pending or sending (sent, skipped, failed, unknown)
    sent: int
    rate: float  # messages a second
    finish_at: datetime | None  # None while nothing was sent in the last RATE_WINDOW

    @property
    def left(self) -> int:
        return self.due - self.done

    @property
    def percent(self) -> int:
        return 100 * self.done // self.due if self.due else 100

    @property
    def minutes_left(self) -> int | None:
        """Whole minutes to the expected finish, rounded up so "about 0 min" never shows."""
        if self.rate <= 0:
            return None
        return max(1, math.ceil(self.left / self.rate / 60))


def sends_in_progress(now: datetime) -> list[SendProgress]:
    """Editions with deliveries still pending or sending, oldest first, in one query."""
    unfinished = [Delivery.Status.PENDING, Delivery.Status.SENDING]
    sent = Q(status=Delivery.Status.SENT)
    # Only the rows of unfinished editions are counted (the status index finds them), not the
    # whole ledger.
    rows = (
        Delivery.objects.filter(
            edition_id__in=Delivery.objects.filter(status__in=unfinished).values("edition_id")
        )
        .values("edition_id", "edition__listed_on")
        .order_by("edition__listed_on")
        .annotate(
            due=Count("pk"),
            left=Count("pk", filter=Q(status__in=unfinished)),
            sent=Count("pk", filter=sent),
            recent=Count("pk", filter=sent & Q(sent_at__gt=now - RATE_WINDOW, sent_at__lte=now)),
        )
    )
    progress = []
    for row in rows:
        rate = row["recent"] / RATE_WINDOW.total_seconds()
        finish_at = now + timedelta(seconds=row["left"] / rate) if rate else None
        progress.append(
            SendProgress(
                edition_id=row["edition_id"],
                listed_on=row["edition__listed_on"],
                due=row["due"],
                done=row["due"] - row["left"],
                sent=row["sent"],
                rate=rate,
                finish_at=finish_at,
            )
        )
    return progress


# --- the dashboard's series ------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[date, float]]


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def per_day(queryset: QuerySet, field: str, start: date, end: date) -> dict[date, int]:
    rows = (
        queryset.filter(**{f"{field}__date__gte": start, f"{field}__date__lte": end})
        .annotate(day=TruncDate(field))
        .values("day")
        .order_by()
        .annotate(n=Count("pk"))
    )
    return {row["day"]: row["n"] for row in rows}


def subscribers_over_time(start: date, end: date) -> list[Series]:
    """Confirmed readers (cumulative) and those who left (unsubscribed, bounced, complained)."""
    confirmed = Subscriber.objects.filter(confirmed_at__isnull=False)
    before = confirmed.filter(confirmed_at__date__lt=start).count()
    joined = per_day(confirmed, "confirmed_at", start, end)
    left_qs = Subscriber.objects.filter(status__in=[Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
    left_before = left_qs.filter(updated_at__date__lt=start).count()
    left = per_day(left_qs, "updated_at", start, end)
    total, gone, readers, leavers = before, left_before, [], []
    for day in days(start, end):
        total += joined.get(day, 0)
        gone += left.get(day, 0)
        readers.append((day, float(total - gone)))
        leavers.append((day, float(gone)))
    return [Series("readers", readers), Series("left (cumulative)", leavers)]


def digests_sent_per_day(start: date, end: date) -> list[Series]:
    sent = per_day(Delivery.objects.filter(status=Delivery.Status.SENT), "sent_at", start, end)
    return [Series("digests sent", [(d, float(sent.get(d, 0))) for d in days(start, end)])]


def bounce_and_complaint_rates(start: date, end: date) -> list[Series]:
    """Of the digests sent each day, the percentage the ESP reported bounced or complained about
    (by the day the digest went out, so a late webhook still counts against its own day)."""
    sent_rows = Delivery.objects.filter(status=Delivery.Status.SENT)
    sent = per_day(sent_rows, "sent_at", start, end)
    bounced = per_day(
        sent_rows.filter(esp_status__in=[EspStatus.BOUNCED, EspStatus.REJECTED]), "sent_at", start, end
    )
    complained = per_day(sent_rows.filter(esp_status=EspStatus.COMPLAINED), "sent_at", start, end)

    def rate(counts: dict[date, int], day: date) -> float:
        return round(100 * counts.get(day, 0) / sent[day], 2) if sent.get(day) else 0.0

    return [
        Series("bounce rate %", [(d, rate(bounced, d)) for d in days(start, end)]),
        Series("complaint rate %", [(d, rate(complained, d)) for d in days(start, end)]),
    ]


def papers_per_day(start: date, end: date) -> list[Series]:
    rows = (
        PaperListing.objects.filter(listed_on__gte=start, listed_on__lte=end)
        .values("listed_on")
        .order_by()
        .annotate(n=Count("pk"))
    )
    counts = {row["listed_on"]: row["n"] for row in rows}
    return [Series("papers listed", [(d, float(counts.get(d, 0))) for d in days(start, end)])]


def topic_popularity() -> list[tuple[str, int]]:
    """Active and paused readers per topic, most popular first."""
    readers = Q(subscribers__status__in=[Status.ACTIVE, Status.PAUSED])
    topics = Topic.objects.annotate(n=Count("subscribers", filter=readers)).order_by("-n", "name")
    return [(t.name, t.n) for t in topics]
