"""The tick's phases alone, behind `python manage.py bench_tick`: finding the due readers,
ordering them, and creating their ledger rows, split into the INSERT statements and the commits
(where PostgreSQL runs the deferred foreign-key checks), as run_tick does them but dispatching
nothing. Each repeat removes its rows and vacuums, so every repeat starts alike."""

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from benchmarks.data import bench_day, settle_tables
from benchmarks.processes import reference_ms
from newsletter.models import Delivery, Edition
from newsletter.sending import tick


@dataclass
class TickPhases:
    due_s: float = 0.0
    order_s: float = 0.0
    insert_s: float = 0.0
    commit_s: float = 0.0
    total_s: float = 0.0
    rows: int = 0


def timed(work: Callable, *args):
    started = time.perf_counter()
    return work(*args), time.perf_counter() - started


def time_phases(edition: Edition) -> TickPhases:
    phases = TickPhases()
    started = time.perf_counter()
    due, phases.due_s = timed(tick.due_subscriber_ids, edition, timezone.now(), True)
    order, phases.order_s = timed(tick.in_profile_order, due)
    size = settings.DIGEST_CHUNK_SIZE
    for batch in tick.batches(order, size * tick.HEAD_START_CHUNKS, size * tick.BATCH_CHUNKS):
        with transaction.atomic():
            rows, took = timed(tick.create_deliveries, edition, batch)
            committing = time.perf_counter()
        phases.commit_s += time.perf_counter() - committing
        phases.insert_s += took
        phases.rows += len(rows)
    phases.total_s = time.perf_counter() - started
    return phases


def run(subscribers: int, repeat: int, seed: int, log=print) -> dict:
    edition, _ = bench_day(subscribers, random.Random(seed))  # noqa: S311 (synthetic data)
    runs, speed = [], reference_ms()
    for n in range(repeat):
        phases = time_phases(edition)
        runs.append({name: round(value, 3) for name, value in asdict(phases).items()})
        log(f"repeat {n + 1}: " + ", ".join(f"{k} {v}" for k, v in runs[-1].items()))
        Delivery.objects.filter(edition=edition)._raw_delete(connection.alias)
        settle_tables()
    best = min(runs, key=lambda r: r["total_s"])
    best_figures = {f"best_{k}": v for k, v in best.items()}
    return {"subscribers": subscribers, "reference_ms": speed, "repeats": runs, **best_figures}
