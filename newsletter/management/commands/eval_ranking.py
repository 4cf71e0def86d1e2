import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter.ranking.evaluation import archive_days, default_topics, make_readers, replay_day, summarise

DEFAULT_ARCHIVE = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"


class Command(BaseCommand):
    help = "Replay archive days with simulated readers: precision@5/@10 of topic-only vs learned ranking."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
        parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2026, 5, 1))
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--warmup", type=int, default=5, help="Days of votes before the summary counts.")

    def handle(self, *args, archive: Path, first: date, days: int, warmup: int, **options) -> None:
        if not archive.exists():
            raise CommandError(f"No archive at {archive}: pass --archive PATH.")
        topics = default_topics()
        readers = make_readers(topics, max_papers=10)
        results = []
        for day, papers in archive_days(archive, first, days):
            result = replay_day(readers, topics, day, papers)
            results.append(result)
            self.stdout.write(
                f"{day}  papers {len(papers):3d}  topic p@5 {result.topic[5]:.2f} p@10 {result.topic[10]:.2f}"
                f"  learned p@5 {result.learned[5]:.2f} p@10 {result.learned[10]:.2f}"
            )
        if not results:
            raise CommandError("No archive days in that range.")
        self.stdout.write(json.dumps(summarise(results, warmup)))
