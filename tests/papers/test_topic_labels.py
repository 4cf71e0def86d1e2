"""The labelled set is what its readings say: every committed label follows from two independent
readings and, where they differ, a third; the set spans the archive and its texts ship with it."""

import gzip
import json
import re

import pytest

from papers.topic_labels import FOLDER, TOPICS
from papers.topic_labels.agreement import kappa, report
from papers.topic_labels.settle import GUIDELINE_VERSION, REREADS, agreed, all_readings, settle, topics_of
from subscribers.default_topics import DEFAULT_TOPICS


def committed() -> list[dict]:
    return [json.loads(line) for line in (FOLDER / "labels.jsonl").read_text().splitlines()]


def test_the_committed_labels_are_the_settled_readings():
    assert settle() == committed()


def test_the_set_is_large_spread_and_judged_for_every_default_topic():
    rows = committed()
    days = sorted({row["date"] for row in rows})
    assert len(rows) >= 1500 and len(days) >= 80
    assert days[0] <= "2024-06-01" and days[-1] >= "2026-08-01"  # the archive's whole span
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(set(row["topics"]) <= set(TOPICS) for row in rows)
    assert {row["guideline_version"] for row in rows} == {GUIDELINE_VERSION}
    with gzip.open(FOLDER / "texts.jsonl.gz", "rt", encoding="utf-8") as lines:
        texts = {text["id"]: text for text in map(json.loads, lines)}
    assert set(texts) == {row["id"] for row in rows}
    assert all(texts[row["id"]]["title"] and texts[row["id"]]["date"] == row["date"] for row in rows)


def test_a_disagreement_is_settled_by_the_third_reading_only():
    first = {"id": "1", "topics": ["llms", "video"]}
    second = {"id": "1", "topics": ["llms", "robotics"]}
    third = {"id": "1", "in": ["robotics"], "out": ["video"]}
    assert agreed(first, second, third, TOPICS) == {"llms", "robotics"}
    assert agreed({"id": "1", "llms": True}, {"id": "1", "llms": True}, None, ["llms"]) == {"llms"}
    with pytest.raises(ValueError, match="no third reading"):
        agreed(first, second, None, TOPICS)
    with pytest.raises(ValueError, match="no third reading"):  # a third reading of other topics
        agreed(first, second, {"id": "1", "in": ["video"], "out": []}, TOPICS)


def test_agreement_is_reported_per_topic():
    assert kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert kappa([True, True, False, False], [False, False, True, True]) == -1.0
    lines = report()
    assert [line.split()[0] for line in lines[:-1]] == TOPICS
    assert all(float(line.split()[2]) >= 0.85 for line in lines[:-1])
    assert lines[-1].startswith(f"{len(committed())} papers read twice")


def test_each_default_topics_description_is_its_guideline_summary():
    """Readers see what the labellers were told (docs/topic-guideline.md)."""
    guideline = (FOLDER.parents[1] / "docs" / "topic-guideline.md").read_text()
    assert f"Guideline version: **{GUIDELINE_VERSION}**" in guideline
    summaries = {
        slug: " ".join(text.split())
        for slug, text in re.findall(r"^## .*?\(`([a-z0-9-]+)`\)\nSummary: (.*?)\n- ", guideline, re.S | re.M)
    }
    assert sorted(summaries) == sorted(TOPICS)
    for topic in DEFAULT_TOPICS:
        assert topic["description"].lower() == summaries[topic["slug"]].lower(), topic["slug"]


def test_guideline_1_4_only_narrowed_safety_so_every_paper_once_called_safety_was_read_again():
    full, again = all_readings()
    called = {
        paper
        for reading in full[:2]
        for paper, row in reading.items()
        if "safety" in topics_of(row, ["safety"])
    }
    reread = dict(zip((v for v, _ in REREADS), (readings for _, readings in again), strict=True))["v1.4"]
    assert called and called <= set(reread[0]) and called <= set(reread[1])
