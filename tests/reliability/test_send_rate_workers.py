"""DIGEST_SEND_RATE with real workers: four Celery worker processes share one bucket in Redis
and a local fake ESP counts the requests in every second; a 429 storm slows them all down.
Every reader still gets exactly one digest."""

import json
import os
from pathlib import Path

import pytest

from newsletter.sending import send_rate
from tests.reliability.harness import (
    FakePostmark,
    WorkerProcess,
    assert_exactly_once,
    due_readers,
    tick,
    wait_until_settled,
)
from tests.services import require_postgres, require_redis

RUNS = int(os.environ.get("RELIABILITY_RUNS", "1"))
WORKERS = 4
CHUNK = {"DIGEST_CHUNK_SIZE": "10", "DIGEST_RETRY_DELAY": "0.2"}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("run", range(RUNS))]


@pytest.fixture(autouse=True)
def _services(settings):
    require_postgres()
    require_redis()
    settings.DIGEST_CHUNK_SIZE = 10
    send_rate.reset()
    yield
    send_rate.reset()


def record(scenario: str, esp: FakePostmark) -> None:
    """The figures of a run, for the closing note: test-artifacts/send_rate.jsonl."""
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    span = esp.times[-1] - esp.times[0] if esp.times else 0.0
    line = {"scenario": scenario, "requests": len(esp.times), "refused_429": esp.answers.count("429")}
    line |= {"busiest_second": esp.busiest_second(), "span_s": round(span, 2)}
    with (out / "send_rate.jsonl").open("a") as file:
        file.write(json.dumps(line) + "\n")


def send_with_workers(esp: FakePostmark, prefix: str, readers: int, **env: str) -> list[str]:
    """`readers` due a digest, sent by WORKERS worker processes through the fake ESP."""
    addresses, edition = due_readers(prefix, readers)
    esp_env = {"ANYMAIL_ESP": "postmark", "POSTMARK_SERVER_TOKEN": "test", "POSTMARK_API_URL": esp.url}
    workers = [WorkerProcess(None, name=f"w{n}", **esp_env, **CHUNK, **env) for n in range(WORKERS)]
    for worker in workers:
        worker.start()
    try:
        tick(edition)
        wait_until_settled(timeout=120)
    finally:
        for worker in workers:
            worker.stop()
        esp.stop()
    return addresses


def test_four_workers_never_exceed_the_send_rate(run):
    esp = FakePostmark([])
    addresses = send_with_workers(esp, f"rate{run}", 120, DIGEST_SEND_RATE="20", DIGEST_SEND_BURST="2")
    record("4 workers, DIGEST_SEND_RATE=20, burst 2, 120 digests", esp)
    assert len(esp.times) == 120  # nothing failed, nothing was sent twice
    assert esp.busiest_second() <= 20 + 2, f"{esp.busiest_second()} requests in one second"
    # The bucket was used, not starved: 118 paced sends take 5.9 s; without the limit the four
    # workers send these 120 in about a second.
    span = esp.times[-1] - esp.times[0]
    assert 5.5 <= span <= 12, f"the 120 sends took {span:.1f} s"
    assert_exactly_once("four workers at DIGEST_SEND_RATE=20", esp, addresses)


def test_a_429_storm_slows_every_worker(run):
    # For 3 s from its first request the ESP answers 429 (Retry-After: 1) to everything. At the
    # configured 50/s, workers that only retried the one message would knock ~150 times.
    esp = FakePostmark([], storm=3.0)
    addresses = send_with_workers(
        esp, f"storm{run}", 60, DIGEST_SEND_RATE="50", DIGEST_SEND_BURST="1", DIGEST_THROTTLE_COOLDOWN="5"
    )
    record("4 workers, DIGEST_SEND_RATE=50, 3 s of 429s, 60 digests", esp)
    refused = esp.answers.count("429")
    assert 1 <= refused <= 20, f"{refused} requests met the storm"
    assert_exactly_once("a 429 storm at DIGEST_SEND_RATE=50", esp, addresses)
