"""A worker SIGKILLed in the middle of a chunk, then restarted: nothing lost, nothing twice.

Repeated RELIABILITY_RUNS times (2 in the normal suite, 20 in `make reliability`)."""

import os

import pytest

from tests.reliability.harness import (
    WorkerProcess,
    assert_exactly_once,
    due_readers,
    past_recovery,
    tick,
    wait_until_settled,
)
from tests.services import require_postgres, require_redis, wait_for

RUNS = int(os.environ.get("RELIABILITY_RUNS", "2"))
READERS = 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(RUNS))
def test_a_worker_killed_mid_chunk_loses_and_duplicates_nothing(run, settings, mail_server):
    require_postgres()
    require_redis()
    settings.DIGEST_CHUNK_SIZE = 10
    smtp = mail_server()
    addresses, edition = due_readers(f"r{run}", READERS)
    env = {"DIGEST_CHUNK_SIZE": "10"}
    worker = WorkerProcess(smtp.port, **env).start()
    try:
        tick(edition)
        # Kill it once it is well into a chunk (5 to 8 messages out, chunks of 10).
        wait_for(lambda: smtp.accepted() >= 5 + run % 4, timeout=60)
        worker.kill()
        worker = WorkerProcess(smtp.port, **env).start()
        # The next tick after the dead task's time limit settles its rows from the journal and
        # dispatches what was never attempted. An "unknown" row is one whose dot had gone out, so
        # its reader did get the digest (asserted: exactly one each).
        tick(edition, later=past_recovery())
        wait_until_settled()
    finally:
        worker.stop()
    assert_exactly_once("worker SIGKILLed mid-chunk", smtp, addresses, unknown_allowed=1)
