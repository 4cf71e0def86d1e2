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
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone

from benchmarks import spy
from benchmarks.autovacuum import StandInAutovacuum
from benchmarks.data import BENCH_DOMAIN, bench_day
from benchmarks.naive import chunk_queries, naive_rate, profile_chunk
from benchmarks.processes import (
    cpu_seconds,
    machine_busy_seconds,
    peak_rss_mb,
    reference_ms,
    service_cpu_seconds,
    start_workers,
    stop_workers,
    system_cpu_seconds,
    wait_until_ready,
)
from benchmarks.sink import SINK_KEY, SinkRecord, read_sink, sink_client
from config.celery import app as celery_app
from newsletter.models import Delivery, Edition, SentPaper
from newsletter.sending import journal
from newsletter.sending.tick import run_tick
from newsletter.tasks import dispatch_after_commit
from subscribers.models import Subscriber


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
    first_digest_s: float = 0.0  # from the tick's start to the first digest handed over
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
    worker_system_cpu_s: float = 0.0  # of worker_cpu_s: in the kernel (system calls)
    # During the send: CPU of PostgreSQL's and Redis's processes, and of the whole machine (all
    # cores, every process), to tell a CPU-bound run from one waiting on something.
    postgres_cpu_s: float = 0.0
    redis_cpu_s: float = 0.0
    machine_busy_cores: float = 0.0
    bench_cpu_s: float = 0.0  # this process: the tick, and watching the ledger until it is done
    cpu_ms_per_digest: float = 0.0
    loadavg_1m: float = 0.0
    reference_ms: float = 0.0  # the machine's speed before the send (processes.reference_ms)
    html_kb_p95: float = 0.0
    eml_kb_p95: float = 0.0
    duplicates: int = 0
    missing: int = 0
    setup_s: float = 0.0
    # Where the server runs without autovacuum: the benchmark's passes in its stead (seconds
    # into the send, table, what), benchmarks.autovacuum.
    autovacuum_passes: list = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_in_flight(edition: Edition, after: int, page: int = 2000) -> int | None:
    """The lowest id from `after` on of a row not settled yet, or None when all are. Rows settle
    roughly in id order, so a look walks the primary key from where the last one stopped. A
    look by status made PostgreSQL combine the edition's and the status index, both holding an
    entry per row version until vacuum: every look scanned every row already sent, CPU taken
    from the workers (117 s of it over a 300,000-reader send, polling every 50 ms)."""
    busy = {Delivery.Status.PENDING, Delivery.Status.SENDING}
    while True:
        rows = Delivery.objects.filter(pk__gte=after).order_by("pk")
        found = list(rows.values_list("pk", "status", "edition_id")[:page])
        for pk, status, edition_id in found:
            if edition_id == edition.pk and status in busy:
                return pk
        if len(found) < page:
            return None
        after = found[-1][0] + 1


# --- the run ----------------------------------------------------------------------------------
@dataclass
class SendTimes:
    tick_s: float
    wall_s: float
    started_at: float  # time.time() at the tick's start, to compare with the sink's records
    autovacuum_passes: list


def timed_send(edition: Edition, workers: list[subprocess.Popen], timeout: float) -> SendTimes:
    """From the tick to the last outcome recorded: the tick runs here and dispatches the chunks
    to the workers after commit, as digest_tick_task does."""
    started_at, started = time.time(), time.perf_counter()
    run_tick(timezone.now(), dispatch_after_commit, edition=edition, ignore_time=True)
    tick = time.perf_counter() - started
    deadline = time.monotonic() + timeout
    autovacuum = StandInAutovacuum([Delivery._meta.db_table, SentPaper._meta.db_table])
    waiting = first_in_flight(edition, 0)
    while waiting is not None:
        autovacuum.poll()
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries still in flight after {timeout:.0f} s")
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a benchmark worker died during the send")
        time.sleep(0.25)
        waiting = first_in_flight(edition, waiting)
        if waiting is None:  # once more from the start: a row put back (a retry) counts too
            waiting = first_in_flight(edition, 0)
    return SendTimes(tick, time.perf_counter() - started, started_at, autovacuum.passes)


def check_ledger(edition: Edition, readers: int, sink: list[SinkRecord], result: Result) -> None:
    """Duplicates: a digest seen twice by the sink, or seen for a row the ledger does not call
    sent. Missing: a due reader without a sent or skipped row, or a sent row the sink never saw."""
    statuses = Counter(Delivery.objects.filter(edition=edition).values_list("status", flat=True))
    sent_ids = {
        str(pk) for pk in Delivery.objects.filter(edition=edition, status="sent").values_list("pk", flat=True)
    }
    seen = Counter(record.delivery for record in sink)
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
    spy_folder: Path | None = None,
    log=print,
) -> Result:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, reproducible by seed)
    chunk_size = chunk_size or settings.DIGEST_CHUNK_SIZE
    started = time.perf_counter()
    edition, source = bench_day(subscribers, rng)
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
    # Tasks left in the bench broker (bench-web's confirmation emails, an aborted run's chunks)
    # would be worked off during the timed send.
    celery_app.control.purge()
    result.reference_ms = reference_ms()
    procs = start_workers(workers, chunk_size)
    try:
        wait_until_ready(procs)
        cpu_before = sum(cpu_seconds(w) for w in procs)
        system_before = sum(system_cpu_seconds(w) for w in procs)
        services_before, busy_before = service_cpu_seconds(), machine_busy_seconds()
        own_before = cpu_seconds(os.getpid())
        spies = spy.start([w.pid for w in procs], spy_folder) if spy_folder else []
        with override_settings(DIGEST_CHUNK_SIZE=chunk_size):
            times = timed_send(edition, procs, timeout)
        spy.stop(spies)
        result.worker_cpu_s = round(sum(cpu_seconds(w) for w in procs) - cpu_before, 2)
        result.worker_system_cpu_s = round(sum(system_cpu_seconds(w) for w in procs) - system_before, 2)
        result.machine_busy_cores = round((machine_busy_seconds() - busy_before) / times.wall_s, 2)
        result.bench_cpu_s = round(cpu_seconds(os.getpid()) - own_before, 2)
        services = service_cpu_seconds()
        result.postgres_cpu_s = round(services["postgres"] - services_before["postgres"], 2)
        result.redis_cpu_s = round(services["redis"] - services_before["redis"], 2)
        result.loadavg_1m = os.getloadavg()[0]
        result.autovacuum_passes = times.autovacuum_passes
        result.peak_rss_mb = round(max(peak_rss_mb(w) for w in procs), 1)
    finally:
        stop_workers(procs)
    if spy_folder:
        log(spy.summary(spy_folder))
    sink = read_sink(client)
    client.delete(SINK_KEY)
    check_ledger(edition, subscribers, sink, result)
    journal.forget(list(Delivery.objects.filter(edition=edition).values_list("pk", flat=True)))
    result.wall_s, result.tick_s = round(times.wall_s, 2), round(times.tick_s, 2)
    result.first_digest_s = round(min(r.at for r in sink) - times.started_at, 2) if sink else 0.0
    result.digests_per_s = round(subscribers / times.wall_s, 1)
    result.speedup = round(result.digests_per_s / result.naive_digests_per_s, 1)
    result.cpu_ms_per_digest = round(result.worker_cpu_s * 1000 / subscribers, 3)
    result.p50_ms_per_digest = round(percentile([r.ms for r in sink], 0.5), 3)
    result.p95_ms_per_digest = round(percentile([r.ms for r in sink], 0.95), 3)
    result.html_kb_p95 = round(percentile([r.html / 1024 for r in sink], 0.95), 1)
    result.eml_kb_p95 = round(percentile([r.size / 1024 for r in sink], 0.95), 1)
    return result


def as_json(result: Result) -> str:
    return json.dumps(asdict(result))


def as_json_dict(result: dict) -> str:
    return json.dumps(result)
