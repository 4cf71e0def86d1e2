"""The digest benchmark behind `python manage.py bench_digests`.

It fills the database with synthetic readers (tagged by the `BENCH_DOMAIN` of their address, and
removed before each run) and one edition of real-shaped papers, then times the real send path -
tick, claim, rank, render, MIME message - on Celery worker processes whose mail backend is
`benchmarks.sink` (serialise to bytes, count, drop). The same run times a naive baseline in this
process: per reader, query everything, rank, render the templates and build the message one by one.
"""

import json
import os
import random
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from benchmarks.data import (
    BENCH_DAY,
    BENCH_DOMAIN,
    EDITION_PAPERS,
    make_edition,
    make_readers,
    purge,
    settle_tables,
)
from benchmarks.naive import chunk_queries, naive_rate, profile_chunk
from benchmarks.processes import cpu_seconds, peak_rss_mb, start_workers, stop_workers, wait_until_ready
from benchmarks.sink import SINK_KEY, read_sink, sink_client
from newsletter.models import Delivery, Edition
from newsletter.sending import journal
from newsletter.sending.tick import run_tick
from newsletter.tasks import dispatch_after_commit
from papers.models import Paper
from subscribers.default_topics import create_missing_topics
from subscribers.models import Subscriber, Topic


# --- measurements ---------------------------------------------------------------------------
@dataclass
class Result:
    subscribers: int
    workers: int
    chunk_size: int
    papers: int
    paper_source: str
    wall_s: float = 0.0
    tick_s: float = 0.0  # of wall_s: the tick (due readers, ledger rows, dispatch)
    digests_per_s: float = 0.0
    naive_digests_per_s: float = 0.0
    naive_sample: int = 0
    speedup: float = 0.0
    sent: int = 0
    skipped: int = 0
    p50_ms_per_digest: float = 0.0
    p95_ms_per_digest: float = 0.0
    queries_per_chunk: int = 0
    queries_per_small_chunk: int = 0
    peak_rss_mb: float = 0.0
    worker_cpu_s: float = 0.0
    cpu_ms_per_digest: float = 0.0
    loadavg_1m: float = 0.0
    html_kb_p95: float = 0.0
    eml_kb_p95: float = 0.0
    duplicates: int = 0
    missing: int = 0
    setup_s: float = 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_flight(edition: Edition) -> bool:
    busy = [Delivery.Status.PENDING, Delivery.Status.SENDING]
    return Delivery.objects.filter(edition=edition, status__in=busy).exists()


# --- the run ----------------------------------------------------------------------------------
def timed_send(edition: Edition, workers: list[subprocess.Popen], timeout: float) -> tuple[float, float]:
    """From the tick to the last outcome recorded: the tick runs here and dispatches the chunks
    to the workers after commit, as digest_tick_task does. Returns (tick, whole) seconds."""
    started = time.perf_counter()
    with transaction.atomic():
        run_tick(timezone.now(), dispatch_after_commit, edition=edition, ignore_time=True)
    tick = time.perf_counter() - started
    deadline = time.monotonic() + timeout
    while in_flight(edition):
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries still in flight after {timeout:.0f} s")
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a benchmark worker died during the send")
        time.sleep(0.05)
    return tick, time.perf_counter() - started


def check_ledger(
    edition: Edition, readers: int, sink: list[tuple[str, int, int, float]], result: Result
) -> None:
    """Duplicates: a digest seen twice by the sink, or seen for a row the ledger does not call
    sent. Missing: a due reader without a sent or skipped row, or a sent row the sink never saw."""
    statuses = Counter(Delivery.objects.filter(edition=edition).values_list("status", flat=True))
    sent_ids = {
        str(pk) for pk in Delivery.objects.filter(edition=edition, status="sent").values_list("pk", flat=True)
    }
    seen = Counter(record[0] for record in sink)
    result.sent, result.skipped = statuses["sent"], statuses["skipped"]
    result.duplicates = sum(n - 1 for n in seen.values()) + len(set(seen) - sent_ids)
    result.missing = (readers - statuses["sent"] - statuses["skipped"]) + len(sent_ids - set(seen))


def run(
    subscribers: int,
    workers: int = 2,
    chunk_size: int | None = None,
    naive_sample: int = 1000,
    seed: int = 7,
    timeout: float = 1800.0,
    profile: bool = False,
    log=print,
) -> Result:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, reproducible by seed)
    chunk_size = chunk_size or settings.DIGEST_CHUNK_SIZE
    started = time.perf_counter()
    purge()
    if not Topic.objects.filter(active=True).exists():
        create_missing_topics(Topic)  # a flushed test database has lost the migration's topics
    edition, source = make_edition(EDITION_PAPERS, rng)
    authors = sorted({a for p in Paper.objects.filter(listings__listed_on=BENCH_DAY) for a in p.authors[:3]})
    make_readers(subscribers, rng, authors)
    settle_tables()
    result = Result(subscribers, workers, chunk_size, len(edition.scores["papers"]), source)
    result.setup_s = round(time.perf_counter() - started, 2)
    log(f"setup: {subscribers} readers, {result.papers} papers ({source}) in {result.setup_s} s")

    ids = list(
        Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with override_settings(DIGEST_CHUNK_SIZE=chunk_size):
        result.queries_per_small_chunk = chunk_queries(edition, ids[: min(10, len(ids))])
        result.queries_per_chunk = chunk_queries(edition, ids[:chunk_size])
        if profile:
            log(profile_chunk(edition, ids[:chunk_size]))
    sample = rng.sample(ids, min(naive_sample, len(ids)))
    result.naive_sample = len(sample)
    result.naive_digests_per_s = round(naive_rate(edition, sample), 1)
    log(f"naive baseline: {result.naive_digests_per_s}/s over {len(sample)} readers, one process")

    client = sink_client()
    client.delete(SINK_KEY)
    procs = start_workers(workers, chunk_size)
    try:
        wait_until_ready(procs)
        cpu_before = sum(cpu_seconds(w) for w in procs)
        with override_settings(DIGEST_CHUNK_SIZE=chunk_size):
            result.tick_s, wall = timed_send(edition, procs, timeout)
            result.tick_s = round(result.tick_s, 2)
        result.worker_cpu_s = round(sum(cpu_seconds(w) for w in procs) - cpu_before, 2)
        result.loadavg_1m = os.getloadavg()[0]
        result.peak_rss_mb = round(max(peak_rss_mb(w) for w in procs), 1)
    finally:
        stop_workers(procs)
    sink = read_sink(client)
    client.delete(SINK_KEY)
    check_ledger(edition, subscribers, sink, result)
    journal.forget(list(Delivery.objects.filter(edition=edition).values_list("pk", flat=True)))
    result.wall_s = round(wall, 2)
    result.digests_per_s = round(subscribers / wall, 1)
    result.speedup = round(result.digests_per_s / result.naive_digests_per_s, 1)
    result.cpu_ms_per_digest = round(result.worker_cpu_s * 1000 / subscribers, 3)
    result.p50_ms_per_digest = round(percentile([r[3] for r in sink], 0.5), 3)
    result.p95_ms_per_digest = round(percentile([r[3] for r in sink], 0.95), 3)
    result.html_kb_p95 = round(percentile([r[2] / 1024 for r in sink], 0.95), 1)
    result.eml_kb_p95 = round(percentile([r[1] / 1024 for r in sink], 0.95), 1)
    return result


def as_json(result: Result) -> str:
    return json.dumps(asdict(result))


def as_json_dict(result: dict) -> str:
    return json.dumps(result)
