"""Settling the digests of a worker that died mid-chunk (SIGKILL, OOM, a lost machine).

Its rows stay "sending". Once no task can still be working on them (the task time limit has
passed), the per-message journal (newsletter.sending.journal) says what became of each one.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.models import Delivery, SentPaper
from newsletter.sending import journal

log = logging.getLogger(__name__)
IN_DOUBT = "the worker died while handing this digest to the mail server: it may have been sent"
UNKNOWN_FATE = "claimed by a worker that died, and the delivery journal does not know this digest"


@dataclass
class Recovered:
    sent: int = 0
    unknown: int = 0
    pending: list[int] = field(default_factory=list)


def abandoned_rows(now: datetime) -> list[Delivery]:
    limit = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.DIGEST_RECOVERY_GRACE)
    rows = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=limit)
    return list(rows.only("pk", "subscriber_id", "claim_token"))


def recover_abandoned(now: datetime) -> Recovered:
    recovered = Recovered()
    rows = abandoned_rows(now)
    if not rows:
        return recovered
    try:
        entries = journal.read([row.pk for row in rows])
    except Exception as exc:  # the journal is unreachable: nothing can be known
        log.warning("delivery journal unreadable, %d abandoned digests become unknown: %r", len(rows), exc)
        entries = {}
    with transaction.atomic():
        for row in rows:
            settle(row, entries.get(row.pk), recovered)
    log.warning("settled %d abandoned digests: %s", len(rows), recovered)
    return recovered


def settle(row: Delivery, entry: dict | None, recovered: Recovered) -> None:
    # Conditional updates: only a row still "sending" under the dead claim changes.
    mine = Delivery.objects.filter(pk=row.pk, status=Delivery.Status.SENDING, claim_token=row.claim_token)
    phase = entry["phase"] if entry else None
    if phase == journal.CLAIMED:
        if mine.update(status=Delivery.Status.PENDING, claim_token=""):
            recovered.pending.append(row.pk)
    elif phase == journal.SENT:
        if mine.update(
            status=Delivery.Status.SENT,
            items=entry["items"],
            esp_message_id=entry["esp"],
            sent_at=timezone.now(),
        ):
            SentPaper.objects.bulk_create(
                [
                    SentPaper(subscriber_id=row.subscriber_id, paper_id=i["paper"], delivery=row)
                    for i in entry["items"]
                ],
                ignore_conflicts=True,
            )
            recovered.sent += 1
    else:
        error = IN_DOUBT if phase == journal.HANDING else UNKNOWN_FATE
        recovered.unknown += mine.update(status=Delivery.Status.UNKNOWN, error=error)
