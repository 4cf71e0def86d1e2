"""Render one realistic digest to files, for looking at it and for the spam and size checks:
`python manage.py sample_digest --papers 50 --out test-artifacts/digest`, then open
digest.html in a browser or run `spamassassin -L -t < test-artifacts/digest/digest.eml`."""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from newsletter.models import Delivery, Edition
from newsletter.sending.chunk import ChunkContext
from newsletter.sending.editions import build_edition
from newsletter.sending.render import build_digest
from papers.ingest import store_listing
from papers.sources.archive import read_archive
from papers.sources.hf import listing_from_items
from subscribers.models import Status, Subscriber, Topic

DEFAULT_ARCHIVE = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"
SAMPLE_DAY = date(2030, 1, 2)  # far from real data, and rolled back anyway


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Render a sample digest of real archive papers to .eml and .html files (nothing is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--papers", type=int, default=50)
        parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
        parser.add_argument("--out", type=Path, default=settings.BASE_DIR / "test-artifacts" / "digest")

    def handle(self, *args, papers: int, archive: Path, out: Path, **options) -> None:
        if not archive.exists():
            raise CommandError(f"No archive at {archive}: pass --archive PATH.")
        out.mkdir(parents=True, exist_ok=True)
        try:
            with transaction.atomic():
                message = self.render(papers, archive)
                raise Rollback
        except Rollback:
            pass
        raw = message.message().as_bytes()
        html = message.alternatives[0][0]
        (out / "digest.eml").write_bytes(raw)
        (out / "digest.html").write_text(html, encoding="utf-8")
        self.stdout.write(
            f"papers={papers} subject={message.subject!r} html_kb={len(html.encode()) / 1024:.1f} "
            f"eml_kb={len(raw) / 1024:.1f} out={out}"
        )

    def render(self, count: int, archive: Path):
        items: list[dict] = []
        for day in read_archive(archive):
            items = (day.items + items)[:count]
        listing = listing_from_items(items, SAMPLE_DAY, "api", "", "archive")
        store_listing(listing, timezone.now())
        edition = build_edition(SAMPLE_DAY, status=Edition.Status.SCHEDULED)
        edition.curator_note = "A sample edition: the newest papers of the archive."
        edition.save()
        reader = Subscriber.objects.create(
            email="reader@example.com", status=Status.ACTIVE, max_papers=50, include_trending=True
        )
        # A typical reader picks a handful of topics.
        reader.topics.set(Topic.objects.filter(active=True)[:4])
        delivery = Delivery.objects.create(subscriber=reader, edition=edition)
        delivery = Delivery.objects.select_related("subscriber", "edition").get(pk=delivery.pk)
        ranked = ChunkContext([delivery]).rank_for(delivery)[:count]
        return build_digest(delivery, ranked, weekly=False)
