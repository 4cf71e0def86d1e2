"""Who is due a digest: the tick.

A tick (every 15 minutes) finds the subscribers whose local delivery hour has come since the
current edition was released, inserts one pending `Delivery` row each (unique per subscriber
and edition), and hands the rows out in chunks (newsletter.sending.delivery sends them).
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from time import sleep
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q

from config.ids import int_array
from newsletter.models import Delivery, Edition
from newsletter.sending.delivery import Counts
from newsletter.sending.editions import (
    build_due_edition,
    close_finished_editions,
    current_edition,
)
from newsletter.sending.recovery import recover_abandoned
from subscribers.models import Frequency, Subscriber
from subscribers.profile_keys import PROFILE_FIELDS, refresh_profile_keys
from subscribers.status import mailable_q

log = logging.getLogger(__name__)


def latest_delivery_moment(now: datetime, tz_name: str, hour: int) -> datetime:
    """The most recent local `hour:00` at or before `now`, in UTC. Built from the local date
    with zoneinfo, so it stays at the reader's hour across DST changes."""
    zone = ZoneInfo(tz_name)
    local_now = now.astimezone(zone)
    moment = datetime.combine(local_now.date(), time(hour), tzinfo=zone)
    if moment > local_now:
        moment = datetime.combine(local_now.date() - timedelta(days=1), time(hour), tzinfo=zone)
    return moment.astimezone(UTC)


def due_subscriber_ids(edition: Edition, now: datetime, ignore_time: bool = False) -> list[int]:
    """Active readers who have not had this edition and whose delivery moment has come since
    it was released (weekly ones on their weekday). A reader confirmed after that moment waits
    for the next one."""
    base = Subscriber.objects.filter(mailable_q(), frequency__in=[Frequency.DAILY, Frequency.WEEKLY]).exclude(
        deliveries__edition=edition
    )
    if ignore_time:
        return list(base.values_list("pk", flat=True))
    released = edition.released_at or edition.created_at
    ids: list[int] = []
    for tz_name, hour in base.values_list("time_zone", "delivery_hour").distinct().order_by():
        moment = latest_delivery_moment(now, tz_name, hour)
        if moment < released:
            continue
        weekday = moment.astimezone(ZoneInfo(tz_name)).weekday()
        due = base.filter(time_zone=tz_name, delivery_hour=hour).filter(
            Q(frequency=Frequency.DAILY) | Q(frequency=Frequency.WEEKLY, weekday=weekday),
            Q(confirmed_at__isnull=True) | Q(confirmed_at__lte=moment),
        )
        ids += due.values_list("pk", flat=True)
    return ids


def in_profile_order(subscriber_ids: list[int]) -> list[int]:
    """The ids with readers of the same preferences next to each other. Rows are created and
    chunked in this order, so readers who get the same digest share a chunk and its worker
    renders that digest once (newsletter.sending.render.shared_digest)."""
    if connection.vendor == "postgresql":
        return profile_order_pg(subscriber_ids)
    chosen: dict[int, list[int]] = {}
    through = Subscriber.topics.through.objects.filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, topic_id in through.order_by("topic_id").values_list("subscriber_id", "topic_id"):
        chosen.setdefault(subscriber_id, []).append(topic_id)
    rows = Subscriber.objects.filter(pk__in=subscriber_ids).values_list("pk", *PROFILE_FIELDS)
    # repr: the JSON fields hold lists, which do not compare with None or each other's types.
    return [row[0] for row in sorted(rows, key=lambda row: (repr((row[1:], chosen.get(row[0]))), row[0]))]


# One statement, the ids as one array literal: the ORM's pk__in with 100,000 parameters took
# seconds. Readers are grouped by their stored profile key, not sorted by their preferences:
# only equal preferences share a ranking, and two profiles whose keys collide would only share
# runs of a chunk, never a ranking.
_PROFILE_ORDER = """
    SELECT s.id, s.profile_key_of IS DISTINCT FROM s.updated_at FROM {subscribers} AS s
    JOIN unnest(%s::bigint[]) AS due(id) ON due.id = s.id
    ORDER BY s.profile_key, s.id
"""


def profile_order_pg(subscriber_ids: list[int]) -> list[int]:
    """Sorted by stored key; readers saved since theirs was computed get a new one first."""
    rows = _keyed_order(subscriber_ids)
    stale = [pk for pk, is_stale in rows if is_stale]
    if stale:
        refresh_profile_keys(stale)
        rows = _keyed_order(subscriber_ids)
    return [pk for pk, _ in rows]


def _keyed_order(subscriber_ids: list[int]) -> list[tuple[int, bool]]:
    with connection.cursor() as cursor:
        query = _PROFILE_ORDER.format(subscribers=Subscriber._meta.db_table)
        cursor.execute(query, [int_array(subscriber_ids)])
        return cursor.fetchall()


@dataclass
class TickResult:
    edition: Edition | None
    due: int = 0
    queued: int = 0
    unknown: int = 0
    counts: Counts = field(default_factory=Counts)


def chunked(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def retry_lost_after() -> timedelta:
    """How long a row put back to pending waits for its task's retry before a tick sends it
    again: twice the longest retry delay, so a retry still on its way is not doubled."""
    return timedelta(seconds=settings.CELERY_MAX_RETRY_DELAY * 2)


def orphaned_pending_ids(edition: Edition, now: datetime) -> list[int]:
    """Pending rows whose task was lost (never claimed, or a retry that never came back)."""
    never_claimed = Q(claimed_at__isnull=True, created_at__lt=now - timedelta(minutes=15))
    retry_lost = Q(claimed_at__lt=now - retry_lost_after())
    pending = Delivery.objects.filter(edition=edition, status=Delivery.Status.PENDING)
    return list(pending.filter(never_claimed | retry_lost).values_list("pk", flat=True))


def create_deliveries(edition: Edition, subscriber_ids: list[int]) -> list[int]:
    """Pending rows for these readers, in their order; the ids of the rows this call created
    (or, elsewhere than PostgreSQL, of all pending unclaimed ones)."""
    if connection.vendor == "postgresql":
        return insert_deliveries_pg(edition, subscriber_ids)
    rows = [Delivery(edition=edition, subscriber_id=sid) for sid in subscriber_ids]
    # ignore_conflicts: an overlapping tick may have inserted some; the unique row wins.
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    created = Delivery.objects.filter(
        edition=edition,
        subscriber_id__in=subscriber_ids,
        status=Delivery.Status.PENDING,
        claimed_at__isnull=True,
    )
    return list(created.values_list("pk", flat=True))


# One statement for a whole batch's rows: bulk_create in batches plus a query for the ids took
# seven seconds for 100,000 readers. Ids follow the readers' order (WITH ORDINALITY), so chunks
# keep readers of the same preferences together.
_INSERT_DELIVERIES = """
    INSERT INTO {table} (edition_id, subscriber_id, status, attempts, items, error, esp_message_id,
                         esp_status, claim_token, created_at)
    SELECT %s, s.id, 'pending', 0, '[]'::jsonb, '', '', '', '', now()
    FROM unnest(%s::bigint[]) WITH ORDINALITY AS s(id, n)
    ORDER BY s.n
    {on_conflict}
    RETURNING id
"""


def insert_deliveries_pg(edition: Edition, subscriber_ids: list[int]) -> list[int]:
    """The due readers had no row when they were found, so a plain INSERT goes first: ON
    CONFLICT's speculative insertion took a third of the statement (0.64 -> 0.43 s for 100,000
    rows). Only when an overlapping tick inserted some of them first does the batch go again,
    skipping the rows that tick created and will dispatch itself."""
    try:
        with transaction.atomic():  # a savepoint: the batch's transaction stays usable
            return _insert_deliveries(edition, subscriber_ids, on_conflict="")
    except IntegrityError:
        return _insert_deliveries(edition, subscriber_ids, on_conflict="ON CONFLICT DO NOTHING")


def _insert_deliveries(edition: Edition, subscriber_ids: list[int], on_conflict: str) -> list[int]:
    with connection.cursor() as cursor:
        query = _INSERT_DELIVERIES.format(table=Delivery._meta.db_table, on_conflict=on_conflict)
        cursor.execute(query, [edition.pk, int_array(subscriber_ids)])
        return sorted(row[0] for row in cursor.fetchall())


def run_tick(
    now: datetime,
    dispatch: Callable[[list[int]], None],
    edition: Edition | None = None,
    ignore_time: bool = False,
) -> TickResult:
    """One tick: settle today's edition if due, create the due deliveries, dispatch chunks."""
    build_due_edition(now)
    edition = edition or current_edition(now)
    recovered = recover_abandoned(now)
    result = TickResult(edition, unknown=recovered.unknown)
    close_finished_editions(edition)
    if edition is None:
        return result
    due = in_profile_order(due_subscriber_ids(edition, now, ignore_time))
    result.due = len(due)
    waiting = sorted(set(orphaned_pending_ids(edition, now)) | set(recovered.pending))
    size = settings.DIGEST_CHUNK_SIZE
    for batch in batches(due, size * HEAD_START_CHUNKS, size * BATCH_CHUNKS):
        # Each batch is committed before its chunks go out (dispatch may be after commit), so
        # workers send the first digests while the tick still inserts the rest. A tick that
        # dies between batches leaves the rest to the next tick, which finds them still due.
        with transaction.atomic():
            ids = create_deliveries(edition, batch)
            if ids and not result.queued:
                start_sending(edition)
        result.queued += len(ids)
        for chunk in chunked(ids, settings.DIGEST_CHUNK_SIZE):
            dispatch(chunk)
    if waiting and not result.queued:
        start_sending(edition)
    result.queued += len(waiting)
    for chunk in chunked(waiting, settings.DIGEST_CHUNK_SIZE):
        dispatch(chunk)
    return result


# Chunks whose rows the tick commits first, so that every worker has one to start on; then
# batches of this many chunks, each sent while the next is inserted.
HEAD_START_CHUNKS = 4
BATCH_CHUNKS = 20


def batches(ids: list[int], head: int, size: int) -> list[list[int]]:
    """The ids as a head of `head`, then batches of `size` (no empty batch)."""
    rest = ids[head:]
    return [
        batch for batch in [ids[:head], *(rest[i : i + size] for i in range(0, len(rest), size))] if batch
    ]


def start_sending(edition: Edition) -> None:
    Edition.objects.filter(pk=edition.pk, status=Edition.Status.SCHEDULED).update(
        status=Edition.Status.SENDING
    )


# --- retrying in-process (send_digests) -----------------------------------------------------


def waiting_ids(edition: Edition) -> list[int]:
    """The edition's digests waiting to be sent: pending rows, never claimed or put back after a
    transient failure. Rows "sending" belong to whoever claimed them and are left alone."""
    pending = Delivery.objects.filter(edition=edition, status=Delivery.Status.PENDING)
    return list(pending.order_by("pk").values_list("pk", flat=True))


def retry_waiting(
    edition: Edition,
    send: Callable[[list[int]], Counts],
    counts: Counts,
    rounds: int,
    pause: float,
) -> None:
    """Send the edition's waiting digests again, at most `rounds` times, adding what each round
    did to `counts`; its retry list ends as what still waits. Without this a run by hand leaves
    them to a worker's retry or to a tick that takes them only after retry_lost_after(). The
    claim in `send` keeps a row from going twice if a worker retries it at the same time."""
    for _ in range(rounds):
        ids = waiting_ids(edition)
        if not ids:
            return
        if counts.retry and pause > 0:
            sleep(pause)  # the last attempt failed transiently: give the server a moment
        counts.retry = []
        for chunk in chunked(ids, settings.DIGEST_CHUNK_SIZE):
            counts.add(send(chunk))


def tick_retries_at(edition: Edition) -> datetime | None:
    """When a tick takes the edition's waiting digests as lost and sends them (all of them)."""
    pending = Delivery.objects.filter(edition=edition, status=Delivery.Status.PENDING)
    last_claim = pending.aggregate(last=Max("claimed_at"))["last"]
    return last_claim + retry_lost_after() if last_claim else None


# --- sending a chunk ----------------------------------------------------------------------------
