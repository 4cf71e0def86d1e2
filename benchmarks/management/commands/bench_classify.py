"""How fast the topic classifier scores papers: a day of the listing, and the whole archive, with
the model shipped with Paperboy. Prints one JSON line last (issue 14's targets: a day of 30
papers under 1 s, about 9,600 papers under 60 s, on two cores)."""

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.classifier.model import load_default
from papers.classifier.text import document_of
from papers.sources.archive import archive_papers, read_archive

FIXTURES = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf"


class Command(BaseCommand):
    help = "Time the topic classifier on a listing day and on the whole archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", type=Path, default=FIXTURES / "daily-papers-archive.jsonl.gz")
        parser.add_argument("--day", type=Path, default=FIXTURES / "api" / "2026-06-12.json")

    def handle(self, *args, archive: Path, day: Path, **options) -> None:
        if not archive.is_file() or not day.is_file():
            raise CommandError(f"needs {archive} and {day} (../shared/fixtures/hf)")
        started = time.perf_counter()
        model = load_default()
        load_s = time.perf_counter() - started
        items = [item.get("paper", item) for item in json.loads(day.read_text())]
        started = time.perf_counter()
        for item in items:
            model.classify(document_of(item))
        day_s = time.perf_counter() - started
        papers = list(archive_papers(archive))
        started = time.perf_counter()
        for paper in papers:
            model.classify(document_of(paper))
        archive_s = time.perf_counter() - started
        days = sum(1 for _ in read_archive(archive))
        result = {
            "model_load_s": round(load_s, 3),
            "day_papers": len(items),
            "day_s": round(day_s, 3),
            "archive_papers": len(papers),
            "archive_days": days,
            "archive_s": round(archive_s, 2),
            "papers_per_s": round(len(papers) / archive_s, 1),
        }
        self.stdout.write(json.dumps(result))
