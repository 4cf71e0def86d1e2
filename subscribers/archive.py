"""Read the Hugging Face listing archive (JSON lines, gzipped: one listing day per line) as papers
to match, for the topic coverage report."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def archive_papers(path: Path) -> Iterator[dict[str, Any]]:
    """One dict per distinct paper (title, abstract, ai_keywords). Items that are not JSON objects
    (a few days were archived as Python reprs) are skipped."""
    seen: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            for item in json.loads(line).get("items", []):
                paper = item.get("paper") if isinstance(item, dict) else None
                if not isinstance(paper, dict) or paper.get("id") in seen:
                    continue
                seen.add(paper.get("id", ""))
                yield {
                    "title": paper.get("title", ""),
                    "abstract": paper.get("summary", ""),
                    "ai_keywords": paper.get("ai_keywords") or [],
                }
