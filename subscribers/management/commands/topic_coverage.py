"""How many papers of the listing archive each active topic matches: a curator's check that
every topic is neither empty nor a catch-all."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.matching import matches_by_paper
from papers.sources.archive import archive_papers
from subscribers.models import Topic

DEFAULT_ARCHIVE = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"


class Command(BaseCommand):
    help = "Report how many archive papers each active topic matches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="a .jsonl.gz archive")

    def handle(self, *args, archive: Path, **options) -> None:
        if not archive.is_file():
            raise CommandError(f"no archive at {archive}")
        topics = list(Topic.objects.filter(active=True))
        counts = dict.fromkeys((topic.slug for topic in topics), 0)
        total = unmatched = 0
        for _, hits in matches_by_paper(archive_papers(archive), {t.slug: t.matcher() for t in topics}):
            total += 1
            for slug in hits:
                counts[slug] += 1
            unmatched += not hits
        self.stdout.write(f"{total} papers in {archive.name}")
        for topic in topics:
            share = 100 * counts[topic.slug] / total if total else 0
            self.stdout.write(f"{topic.slug:<24} {counts[topic.slug]:>6} {share:5.1f}%")
        self.stdout.write(f"{'(no topic)':<24} {unmatched:>6} {100 * unmatched / max(total, 1):5.1f}%")
