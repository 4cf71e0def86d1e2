"""A worker SIGKILLed in the middle of a chunk, then restarted: nothing lost, nothing twice.

Repeated RELIABILITY_RUNS times (2 in the normal suite, 20 in `make reliability`)."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from newsletter.delivery import run_tick
from newsletter.models import Delivery
from newsletter.tasks import dispatch_after_commit
from tests.newsletter.personas import a_day_of_papers, reader, released_edition, video
from tests.reliability.harness import (
    SlowInbox,
    WorkerProcess,
    assert_ledger_agrees,
    record_run,
    tally,
    wait_until_settled,
)
from tests.services import require_postgres, require_redis, wait_for
from tests.smtp import free_port

RUNS = int(os.environ.get("RELIABILITY_RUNS", "2"))
READERS = 30


def tick(edition, later: timedelta = timedelta(0)) -> None:
    with transaction.atomic():
        run_tick(datetime.now(UTC) + later, dispatch_after_commit, edition, ignore_time=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(RUNS))
def test_a_worker_killed_mid_chunk_loses_and_duplicates_nothing(run, settings):
    require_postgres()
    require_redis()
    settings.DIGEST_CHUNK_SIZE = 10
    inbox = SlowInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    topic = video()
    addresses = [reader(f"r{run}-{i}@example.test", [topic]).email for i in range(READERS)]
    a_day_of_papers()
    edition = released_edition()
    env = {"DIGEST_CHUNK_SIZE": "10"}
    worker = WorkerProcess(smtp.port, **env).start()
    try:
        tick(edition)
        # Kill it once it is well into a chunk (5 to 8 messages out, chunks of 10).
        wait_for(lambda: len(inbox.messages) >= 5 + run % 4, timeout=60)
        worker.kill()
        worker = WorkerProcess(smtp.port, **env).start()
        # The next tick after the dead task's time limit settles its rows from the journal and
        # dispatches what was never attempted (time moved on rather than waited for).
        task_over = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.DIGEST_RECOVERY_GRACE + 1)
        tick(edition, later=task_over)
        wait_until_settled()
    finally:
        worker.stop()
        smtp.stop()
    counts = tally(inbox, addresses)
    unknown = set(
        Delivery.objects.filter(status=Delivery.Status.UNKNOWN).values_list("subscriber__email", flat=True)
    )
    record_run("worker SIGKILLed mid-chunk", counts, len(unknown))
    assert [a for a in addresses if counts[a] != 1] == [], "every reader gets exactly one digest"
    assert len(unknown) <= 1, "only the message being handed over at the kill may be in doubt"
    assert_ledger_agrees(inbox)
