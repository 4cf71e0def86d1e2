"""The benchmark's data: a synthetic edition from archive papers, and readers with varied
preferences, in tables it purges afterwards."""

import random
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from newsletter.models import Delivery, Edition, SentPaper
from newsletter.sending.editions import build_edition
from papers.ingest import store_listing
from papers.models import Paper, PaperListing
from papers.sources.archive import read_archive
from papers.sources.hf import listing_from_items
from subscribers.default_topics import create_missing_topics
from subscribers.models import Frequency, Status, Subscriber, Topic
from subscribers.profile_keys import refresh_profile_keys

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


def bench_day(subscribers: int, rng: random.Random) -> tuple[Edition, str]:
    """A clean slate, then an edition of EDITION_PAPERS and `subscribers` readers due it; the
    edition and where its papers came from ("archive" or "synthetic")."""
    purge()
    if not Topic.objects.filter(active=True).exists():
        create_missing_topics(Topic)  # a flushed test database has lost the migration's topics
    edition, source = make_edition(EDITION_PAPERS, rng)
    authors = sorted({a for p in Paper.objects.filter(listings__listed_on=BENCH_DAY) for a in p.authors[:3]})
    make_readers(subscribers, rng, authors)
    # As the ticks of earlier days left them: a reader's key is computed once, at the first
    # tick after a save (1.7 s for 100,000 new readers here), not every day.
    refresh_profile_keys(list(Subscriber.objects.values_list("pk", flat=True)))
    settle_tables()
    return edition, source


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
