"""Classify papers from a JSON-lines file with the current topic model and the topics in the
database. Each line: an item of the Hugging Face `daily_papers` API (with a `paper` object), or an
object with `id`, `title`, `abstract` (or `summary`) and optional `ai_keywords`. Prints one JSON
line per paper: {"id": ..., "topics": [...], "scores": {slug: probability}}."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.classifier.store import classify
from papers.models import Paper
from papers.scores import topics_of
from subscribers.models import Topic


def paper_of(line_number: int, raw: str) -> Paper:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CommandError(f"line {line_number}: not JSON ({exc.msg})") from None
    fields = item.get("paper", item) if isinstance(item, dict) else None
    if not isinstance(fields, dict) or not isinstance(fields.get("title"), str):
        raise CommandError(f"line {line_number}: no paper with a title")
    abstract = fields.get("abstract", fields.get("summary")) or ""
    keywords = fields.get("ai_keywords") or []
    return Paper(
        arxiv_id=str(fields.get("id", "")),
        title=" ".join(fields["title"].split()),
        abstract=" ".join(str(abstract).split()),
        ai_keywords=[str(k) for k in keywords] if isinstance(keywords, list) else [],
    )


class Command(BaseCommand):
    help = "Classify papers (JSON lines) into the active topics; one JSON line out per paper."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", type=Path, help="JSON lines: daily_papers API items or {id, title, abstract}"
        )

    def handle(self, *args, file: Path, **options) -> None:
        if not file.is_file():
            raise CommandError(f"no file at {file}")
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        papers = classify([paper_of(n, line) for n, line in enumerate(lines, start=1)], save=False)
        topics = list(Topic.objects.filter(active=True))
        slug_of = {str(t.pk): t.slug for t in topics}
        for paper, found in topics_of(papers, topics):
            scores = {t.slug: paper.topic_scores[t.slug] for t in topics if t.slug in paper.topic_scores}
            result = {"id": paper.arxiv_id, "topics": [slug_of[key] for key in found], "scores": scores}
            self.stdout.write(json.dumps(result))
