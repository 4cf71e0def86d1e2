"""Read the daily-papers archive: one JSON object a line, `{"date": "YYYY-MM-DD", "items": [...]}`
with the items of `/api/daily_papers?date=D` (gzip or plain).

The archiving script stored some days' items as Python reprs (`{'paper': {'id': ...}, ...}`)
instead of JSON objects; those are decoded with `ast.literal_eval`, which evaluates literals only.
Anything else (one day holds just the key names of a lost wrapper object) is counted as garbage.
"""

import ast
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


@dataclass
class ArchiveDay:
    day: date
    items: list[dict[str, Any]]
    garbage: list[Any]


def decode_item(item: Any) -> dict[str, Any] | None:
    if isinstance(item, dict):
        return item
    if isinstance(item, str) and item.startswith("{"):
        try:
            value = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, dict) else None
    return None


def read_archive(path: Path) -> Iterator[ArchiveDay]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            items, garbage = [], []
            for raw in record["items"]:
                item = decode_item(raw)
                (items if item is not None else garbage).append(item if item is not None else raw)
            yield ArchiveDay(date.fromisoformat(record["date"]), items, garbage)


def archive_papers(path: Path) -> Iterator[dict[str, Any]]:
    """Each distinct paper of the archive once, as a dict with title, abstract and ai_keywords
    (what matching and the topic coverage report read)."""
    seen: set[str] = set()
    for day in read_archive(path):
        for item in day.items:
            paper = item.get("paper")
            if not isinstance(paper, dict) or paper.get("id") in seen:
                continue
            seen.add(paper.get("id", ""))
            yield {
                "id": paper.get("id", ""),
                "title": paper.get("title", ""),
                "abstract": paper.get("summary", ""),
                "ai_keywords": paper.get("ai_keywords") or [],
            }
