"""The landing page's preview under load: a week of listings stored (archive papers on far-future
days), then the preview fragment and the whole landing page asked for in-process, with choices
drawn from a fixed seed. Server-side latency only (no network), as the issue's target is."""

import random
import time
from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benchmarks.data import ARCHIVE, BENCH_DAY, KEYWORDS, synthetic_items
from benchmarks.digests import percentile
from papers.ingest import store_listing
from papers.models import Paper, PaperListing
from papers.sources.archive import read_archive
from papers.sources.hf import listing_from_items
from subscribers.models import Topic

WEEK = [BENCH_DAY - timedelta(days=n) for n in range(6, -1, -1)]


def store_week(archive: Path = ARCHIVE, rng: random.Random | None = None) -> int:
    """Seven listing days ending BENCH_DAY, from the archive's last seven non-empty days."""
    days = [day.items for day in read_archive(archive) if day.items][-7:] if archive.exists() else []
    if len(days) < 7:
        rng = rng or random.Random(7)  # noqa: S311 (sample data)
        days = [synthetic_items(40, rng) for _ in WEEK]
    for day, items in zip(WEEK, days, strict=True):
        store_listing(listing_from_items(items, day, "api", "", "bench"), timezone.now())
    return PaperListing.objects.filter(listed_on__in=WEEK).count()


def purge_week() -> None:
    PaperListing.objects.filter(listed_on__in=WEEK).delete()
    Paper.objects.filter(first_listed_on__in=WEEK).delete()


def timed(client: Client, url: str, params: dict, samples: list[float]) -> None:
    started = time.perf_counter()
    response = client.get(url, params)
    samples.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def run(requests: int, seed: int = 16) -> dict:
    rng = random.Random(seed)  # noqa: S311 (sample choices, not security)
    stored = store_week(rng=rng)
    topics = [str(pk) for pk in Topic.objects.filter(active=True).values_list("pk", flat=True)]
    client = Client(SERVER_NAME="127.0.0.1")
    url = reverse("subscribers:signup-preview")
    fragment: list[float] = []
    page: list[float] = []
    for _ in range(20):  # warm up: imports, template loading, the classifier's model
        timed(client, url, {"topics": rng.sample(topics, 2)}, [])
    for _ in range(requests):
        choice = {
            "topics": rng.sample(topics, rng.randint(0, 3)),
            "keywords": ", ".join(rng.sample(KEYWORDS, rng.randint(0, 2))),
        }
        timed(client, url, choice, fragment)
        if len(page) < requests // 5:
            timed(client, "/", {}, page)
    return {
        "papers_stored": stored,
        "preview": summary(fragment),
        "landing": summary(page),
    }


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
    }
