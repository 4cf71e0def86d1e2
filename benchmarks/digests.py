"""The digest benchmark behind `python manage.py bench_digests`.

It fills the database with synthetic readers (tagged by the `BENCH_DOMAIN` of their address, and
removed before each run) and one edition of real-shaped papers, then times the real send path -
tick, claim, rank, render, MIME message - on Celery worker processes whose mail backend is
`benchmarks.sink` (serialise to bytes, count, drop). The same run times a naive baseline in this
process: per reader, query everything, rank, render the templates and build the message one by one.
"""

import cProfile
import io
import json
import os
import pstats
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from benchmarks.sink import SINK_KEY, read_sink, sink_client
from config.celery import app as celery_app
from newsletter.models import Delivery, Edition, SentPaper
from newsletter.ranking.rank import candidates_of, profile_of, rank
from newsletter.sending import journal
from newsletter.sending.delivery import send_chunk
from newsletter.sending.editions import build_edition
from newsletter.sending.render import build_digest_one_by_one, is_weekly
from newsletter.sending.tick import run_tick
from newsletter.tasks import dispatch_after_commit
from papers.ingest import store_listing
from papers.models import Paper, PaperListing
from papers.sources.archive import read_archive
from papers.sources.hf import listing_from_items
from subscribers.default_topics import create_missing_topics
from subscribers.models import Frequency, Status, Subscriber, Topic

BENCH_DOMAIN = "bench.paperboy.example"
BENCH_DAY = date(2030, 1, 7)  # far from real listings
EDITION_PAPERS = 40
ARCHIVE = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"
SYNTHETIC_PREFIX = "3001."  # arXiv ids no real paper has

TIME_ZONES = [
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata",
    "Australia/Sydney",
]  # fmt: skip
KEYWORDS = [
    "diffusion", "reinforcement learning", "benchmark", "agent", "quantization", "LoRA", "speech",
    "retrieval", "3D", "video", "reasoning", "mixture of experts", "robot", "code", "math",
]  # fmt: skip
EXCLUDED = ["survey", "medical", "chinese", "benchmark", "jailbreak"]


# --- data -----------------------------------------------------------------------------------
def purge() -> None:
    """Remove what an earlier run left: the bench readers, their ledger rows and the edition."""
    readers = Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
    SentPaper.objects.filter(subscriber__in=readers)._raw_delete(connection.alias)
    Delivery.objects.filter(subscriber__in=readers)._raw_delete(connection.alias)
    Delivery.objects.filter(edition__listed_on=BENCH_DAY)._raw_delete(connection.alias)
    Subscriber.topics.through.objects.filter(subscriber__in=readers)._raw_delete(connection.alias)
    readers.delete()
    Edition.objects.filter(listed_on=BENCH_DAY).delete()
    PaperListing.objects.filter(listed_on=BENCH_DAY).delete()
    Paper.objects.filter(arxiv_id__startswith=SYNTHETIC_PREFIX).delete()


def settle_tables() -> None:
    """VACUUM ANALYZE what setup and purge churned, as autovacuum would have on a live database:
    with stale statistics and an earlier run's dead rows, PostgreSQL looked up sent papers by
    paper (hundreds of thousands of dead index entries) instead of by reader."""
    tables = [Subscriber._meta.db_table, Subscriber.topics.through._meta.db_table,
              Delivery._meta.db_table, SentPaper._meta.db_table]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def archive_items(count: int, archive: Path) -> list[dict]:
    items: list[dict] = []
    for day in read_archive(archive):
        items = (day.items + items)[:count]
    return items


def synthetic_items(count: int, rng: random.Random) -> list[dict]:
    """API-shaped items for a machine without the fixtures: titles and abstracts built from the
    topic vocabulary, so ranking has something to match."""
    items = []
    for i in range(count):
        words = rng.sample(KEYWORDS, 3)
        title = f"{words[0].title()} meets {words[1]}: scaling {words[2]} to new tasks"
        abstract = " ".join(
            f"We study {rng.choice(KEYWORDS)} with large language model agents and {rng.choice(KEYWORDS)}."
            for _ in range(8)
        )
        authors = [{"name": f"Author {rng.randrange(400)}"} for _ in range(rng.randint(1, 12))]
        paper = {"id": f"{SYNTHETIC_PREFIX}{i:05d}", "title": title, "summary": abstract, "authors": authors}
        paper |= {"upvotes": rng.randint(0, 250), "publishedAt": f"{BENCH_DAY}T00:00:00.000Z"}
        items.append({"paper": paper, "title": title})
    return items


def make_edition(papers: int, rng: random.Random, archive: Path = ARCHIVE) -> tuple[Edition, str]:
    source = "archive" if archive.exists() else "synthetic"
    items = archive_items(papers, archive) if source == "archive" else synthetic_items(papers, rng)
    store_listing(listing_from_items(items, BENCH_DAY, "api", "", source), timezone.now())
    edition = build_edition(BENCH_DAY, status=Edition.Status.SCHEDULED)
    edition.curator_note = "A benchmark edition."
    edition.save(update_fields=["curator_note"])
    return edition, source


def make_readers(count: int, rng: random.Random, authors: list[str]) -> None:
    """Readers as a real list has them: mostly daily, a few topics each, some own keywords,
    exclusions and followed authors, spread over time zones and hours."""
    topics = list(Topic.objects.filter(active=True).values_list("pk", flat=True))
    weekday = BENCH_DAY.weekday()
    through = Subscriber.topics.through
    for start in range(0, count, 5000):
        batch = [reader(i, rng, authors, weekday) for i in range(start, min(count, start + 5000))]
        Subscriber.objects.bulk_create(batch, batch_size=5000)
        links = [
            through(subscriber_id=s.pk, topic_id=t)
            for s in batch
            for t in rng.sample(topics, min(len(topics), rng.choice([0, 1, 2, 2, 3, 3, 4, 6])))
        ]
        through.objects.bulk_create(links, batch_size=10000)


def reader(i: int, rng: random.Random, authors: list[str], weekday: int) -> Subscriber:
    weekly = rng.random() < 0.15
    return Subscriber(
        email=f"reader{i}@{BENCH_DOMAIN}",
        status=Status.ACTIVE,
        confirmed_at=datetime(2029, 1, 1, tzinfo=UTC),
        keywords=rng.sample(KEYWORDS, rng.choice([0, 0, 0, 1, 2])),
        excluded_keywords=rng.sample(EXCLUDED, rng.choice([0, 0, 0, 0, 1])),
        followed_authors=rng.sample(authors, 1) if authors and rng.random() < 0.05 else [],
        frequency=Frequency.WEEKLY if weekly else Frequency.DAILY,
        weekday=weekday,
        delivery_hour=rng.randrange(24),
        time_zone=rng.choice(TIME_ZONES),
        max_papers=rng.choice([5, 10, 10, 10, 15, 20]),
        min_upvotes=rng.choice([0, 0, 0, 5, 20]),
        include_trending=rng.random() < 0.5,
        confirm_nonce="b" * 32,
    )


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


class Rollback(Exception):
    pass


def rolled_back(work):
    """Run `work()` in a transaction that is rolled back; return its result."""
    box = []
    try:
        with transaction.atomic():
            box.append(work())
            raise Rollback
    except Rollback:
        pass
    return box[0]


def chunk_queries(edition: Edition, subscriber_ids: list[int]) -> int:
    """Queries one send_chunk of these readers makes (rolled back, mail kept in memory)."""

    def work() -> int:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        in_memory = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        with in_memory, CaptureQueriesContext(connection) as queries:
            send_chunk(ids)
        return len(queries)

    return rolled_back(work)


def naive_rate(edition: Edition, subscriber_ids: list[int]) -> float:
    """Digests per second of the naive path, one reader at a time in this process."""

    def work() -> float:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        started = time.perf_counter()
        for pk in ids:
            naive_one(pk)
        return len(ids) / (time.perf_counter() - started)

    return rolled_back(work)


def naive_one(delivery_id: int) -> bytes | None:
    delivery = Delivery.objects.select_related("subscriber", "edition").get(pk=delivery_id)
    subscriber = delivery.subscriber
    edition = Edition.objects.prefetch_related("picks", "hidden").get(pk=delivery.edition_id)
    papers = Paper.objects.in_bulk([int(pid) for pid in edition.scores.get("papers", {})])
    sent = set(SentPaper.objects.filter(subscriber=subscriber).values_list("paper_id", flat=True))
    items = rank(profile_of(subscriber, subscriber.topics.all()), candidates_of([edition], papers), sent)
    if not items:
        return None
    return build_digest_one_by_one(delivery, items, is_weekly(subscriber)).message().as_bytes()


def profile_chunk(edition: Edition, subscriber_ids: list[int], top: int = 25) -> str:
    """cProfile of one chunk of the real send path in this process, cumulative time first."""

    def work() -> str:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        profiler = cProfile.Profile()
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            profiler.enable()
            send_chunk(ids)
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        return out.getvalue()

    return rolled_back(work)


# --- workers ----------------------------------------------------------------------------------
def database_url() -> str:
    """This process's database as a URL, so that subprocesses use the very same one (under
    pytest, the test database rather than the one DATABASE_URL names)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_workers(count: int, chunk_size: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "benchmarks.sink.SinkEmailBackend",
        "DIGEST_CHUNK_SIZE": str(chunk_size),
    }
    stamp = f"{os.getpid()}-{time.time_ns()}"
    return [
        subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel",
             "WARNING", "--without-gossip", "--without-mingle", "-n", f"bench{i}-{stamp}@%h"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(count)
    ]  # fmt: skip


def wait_until_ready(workers: list[subprocess.Popen], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a benchmark worker exited at start; run it by hand to see why")
        replies = celery_app.control.ping(timeout=0.5) or []
        if len(replies) >= len(workers):
            return
    raise RuntimeError(f"the workers were not ready after {timeout:.0f} s")


def peak_rss_mb(worker: subprocess.Popen) -> float:
    """The worker's high-water resident set (VmHWM): with the solo pool it ran every task."""
    for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(worker: subprocess.Popen | int) -> float:
    """User + system CPU the process used so far: unlike wall time, not inflated by other
    processes competing for the cores."""
    pid = worker if isinstance(worker, int) else worker.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live children (gunicorn's master and workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)  # warm shutdown
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


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
