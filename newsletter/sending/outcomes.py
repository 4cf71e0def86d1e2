"""Writing a chunk's outcomes: its rows' statuses and the papers each reader was sent, in bulk."""

import json
import logging
from typing import NamedTuple

from django.db import InterfaceError, OperationalError, connection, transaction

from newsletter.models import Delivery, SentPaper
from subscribers.models import Status
from subscribers.status import suppress_ids

log = logging.getLogger(__name__)


class SentPair(NamedTuple):
    """A SentPaper row to insert (plain tuples: a model instance per paper cost more)."""

    subscriber_id: int
    paper_id: int
    delivery_id: int


def save_outcomes(deliveries: list[Delivery], sent_papers: list[SentPair], bounced: list[int]) -> None:
    """record_outcomes, once more on a new connection if the database connection was lost while
    the chunk was sending (a restart, a failover, an idle connection killed): otherwise the rows
    would wait "sending" for recovery after the task time limit. Safe to repeat: rows are
    updated by id and sent papers inserted ON CONFLICT DO NOTHING."""
    try:
        record_outcomes(deliveries, sent_papers, bounced)
    except (OperationalError, InterfaceError) as exc:
        log.warning("database connection lost while sending a chunk, saving its outcomes again: %r", exc)
        connection.close()
        record_outcomes(deliveries, sent_papers, bounced)


def record_outcomes(deliveries: list[Delivery], sent_papers: list[SentPair], bounced: list[int]) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            update_deliveries_pg(deliveries)
            insert_sent_papers_pg(sent_papers)
        else:
            Delivery.objects.bulk_update(
                deliveries, ["status", "items", "error", "esp_message_id", "sent_at"], batch_size=1000
            )
            rows = [SentPaper(**pair._asdict()) for pair in sent_papers]
            SentPaper.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        if bounced:
            # Suppressed before the next send: a hard bounce is never mailed again.
            suppress_ids(bounced, Status.BOUNCED)


# On PostgreSQL a chunk's outcomes are one UPDATE and one INSERT whatever the chunk's size: the
# values travel as arrays and unnest() turns them into rows. bulk_update's CASE WHEN per row
# took a third of a chunk's time, and bulk_create split into batches as chunks grew.
_UPDATE_DELIVERIES = """
    UPDATE {table} AS d
    SET status = v.status, items = v.items::jsonb, error = v.error, esp_message_id = v.esp_message_id,
        sent_at = v.sent_at
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])
        AS v(id, status, items, error, esp_message_id, sent_at)
    WHERE d.id = v.id
"""
_INSERT_SENT_PAPERS = """
    INSERT INTO {table} (subscriber_id, paper_id, delivery_id)
    SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])
    ON CONFLICT DO NOTHING
"""


def update_deliveries_pg(deliveries: list[Delivery]) -> None:
    columns = (
        [d.pk for d in deliveries],
        [d.status for d in deliveries],
        [json.dumps(d.items) for d in deliveries],
        [d.error for d in deliveries],
        [d.esp_message_id for d in deliveries],
        [d.sent_at for d in deliveries],
    )
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_DELIVERIES.format(table=Delivery._meta.db_table), columns)


def insert_sent_papers_pg(sent_papers: list[SentPair]) -> None:
    if not sent_papers:
        return
    columns = (
        [s.subscriber_id for s in sent_papers],
        [s.paper_id for s in sent_papers],
        [s.delivery_id for s in sent_papers],
    )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SENT_PAPERS.format(table=SentPaper._meta.db_table), columns)
