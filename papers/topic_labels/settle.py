"""The labels, settled from the readings beside this file: `python -m papers.topic_labels.settle`
rewrites labels.jsonl (needs no database; the test suite checks the committed file is this).

- `readings/batch-NN.reader-{1,2}.jsonl`: two independent readings of every paper for all topics.
- `readings/third-*.jsonl`: a third reading of the topics the two disagreed on (`in` / `out`).
- `readings/v1.2-NN.reader-{1,2}.jsonl` and `readings/v1.2-third-*.jsonl`: guideline 1.2 rewrote
  the LLM and Datasets rules, so every paper was read again, twice and independently, for those
  two topics only; those readings replace the earlier ones for them.
- `readings/v1.3-*`: likewise for Datasets after guideline 1.3, for the papers any reading had
  called a benchmark (the only papers whose Datasets rule changed).
- `readings/v1.4-*`: likewise for Safety after guideline 1.4 gave it one test (is safety or trust
  the goal?), for the papers any reading had called Safety: 1.4 only narrows the topic, so a paper
  both readings had left out stays out.
"""

import gzip
import json
from collections.abc import Iterable
from pathlib import Path

from papers.topic_labels import FOLDER, TOPICS

GUIDELINE_VERSION = "1.4"
# Re-readings after a guideline changed a topic's rules, oldest first: (file prefix, topics).
REREADS = (("v1.2", ("llms", "datasets")), ("v1.3", ("datasets",)), ("v1.4", ("safety",)))
Readings = tuple[dict[str, dict], dict[str, dict], dict[str, dict]]  # first, second, third


def readings(pattern: str, folder: Path = FOLDER) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for path in sorted((folder / "readings").glob(pattern)):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            rows[row["id"]] = row
    return rows


def topics_of(row: dict, slugs: Iterable[str]) -> set[str]:
    """A reading's topics among `slugs`: a full reading lists them, a re-reading says true/false."""
    if "topics" in row:
        return set(row["topics"]) & set(slugs)
    return {slug for slug in slugs if row.get(slug)}


def agreed(first: dict, second: dict, third: dict | None, slugs: Iterable[str]) -> set[str]:
    """What both readings say, and of what they disagree on, what the third reading puts in."""
    slugs = set(slugs)
    one, two = topics_of(first, slugs), topics_of(second, slugs)
    disputed = one ^ two
    if not disputed:
        return one
    if third is None or (set(third["in"]) | set(third["out"])) & slugs != disputed:
        raise ValueError(f"{first['id']}: the disagreement on {sorted(disputed)} has no third reading")
    return (one & two) | (set(third["in"]) & disputed)


def all_readings(folder: Path = FOLDER) -> tuple[Readings, list[tuple[tuple[str, ...], Readings]]]:
    """The full readings, and each re-reading with the topics it judged."""
    full = tuple(readings(p, folder) for p in ("batch-*.reader-1.jsonl", "batch-*.reader-2.jsonl", "third-*"))
    again = [
        (
            topics,
            tuple(
                readings(f"{v}-{p}", folder)
                for p in ("[0-9]*.reader-1.jsonl", "[0-9]*.reader-2.jsonl", "third-*")
            ),
        )
        for v, topics in REREADS
    ]
    return full, again


def latest(paper: str, full: Readings, again: list[tuple[tuple[str, ...], Readings]]) -> dict[str, Readings]:
    """Per topic, the readings that judge `paper` for it: the newest re-reading that covers it."""
    chosen = {slug: full for slug in TOPICS}
    for topics, reading in again:
        if paper in reading[0]:
            chosen.update(dict.fromkeys(topics, reading))
    return chosen


def settle(folder: Path = FOLDER) -> list[dict]:
    full, again = all_readings(folder)
    with gzip.open(folder / "texts.jsonl.gz", "rt", encoding="utf-8") as lines:
        days = {row["id"]: row["date"] for row in map(json.loads, lines)}
    rows = []
    for paper in sorted(full[0], key=lambda i: (days[i], i)):
        chosen = latest(paper, full, again)
        topics = [
            slug
            for slug, (one, two, third) in chosen.items()
            if agreed(one[paper], two[paper], third.get(paper), [slug])
        ]
        rows.append(
            {"id": paper, "date": days[paper], "topics": topics, "guideline_version": GUIDELINE_VERSION}
        )
    return rows


def write(folder: Path = FOLDER) -> int:
    rows = settle(folder)
    (folder / "labels.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return len(rows)


if __name__ == "__main__":
    print(f"{write()} papers written to {FOLDER / 'labels.jsonl'}")
