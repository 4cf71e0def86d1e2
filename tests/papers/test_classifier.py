"""The topic classifier: the shipped model loads with the network unavailable, `classify_papers`
reads real captures, `eval_topics` runs on a slice of the labelled set, bad input says why."""

import json
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from papers.classifier.model import DEFAULT_MODEL, TopicModel, load_default
from papers.classifier.text import document
from papers.topic_labels import TOPICS
from tests.papers.conftest import require_captures

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails, as on a machine without network access."""

    def refuse(*args, **kwargs):
        raise OSError("network unavailable in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_shipped_model_loads_and_classifies_with_no_network(no_network):
    assert DEFAULT_MODEL.stat().st_size < 5_000_000
    model = load_default()
    assert model.slugs == TOPICS
    title = "Fast Speech Synthesis with Flow Matching"
    abstract = (
        "We present a text-to-speech model that synthesises natural speech in real time, "
        "evaluated on voice cloning and zero-shot TTS benchmarks."
    )
    result = model.classify(document(title, abstract))
    assert "speech-audio" in result.topics
    assert set(result.scores) == set(TOPICS) and all(0 <= p <= 1 for p in result.scores.values())
    # The "why": the paper's own words, as written, never a stem.
    words = f"{title} {abstract}".lower().replace("-", " ")
    assert result.evidence["speech-audio"]
    assert all(phrase in words for phrase in result.evidence["speech-audio"]), result.evidence


def test_a_model_round_trips_through_bytes_and_never_unpickles():
    model = load_default()
    again = TopicModel.from_bytes(model.to_bytes())
    assert again.slugs == model.slugs and again.vocabulary == model.vocabulary
    assert (again.thresholds == model.thresholds).all()


def day_file(tmp_path: Path, name: str) -> Path:
    items = json.loads((require_captures() / "api" / name).read_text())
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n")
    return path


def classified(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_classify_papers_reads_a_day_of_the_api_on_a_fresh_database(tmp_path, capsys):
    call_command("classify_papers", str(day_file(tmp_path, "2026-06-12.json")))
    rows = classified(capsys)
    assert len(rows) == 30
    by_id = {row["id"]: row for row in rows}
    assert set(by_id["2606.12282"]["topics"]) >= {"speech-audio"}  # a text-to-speech paper
    for row in rows:
        assert set(row["scores"]) == set(TOPICS)
        assert set(row["topics"]) <= set(TOPICS)
        assert all(row["scores"][slug] >= 0.1 for slug in row["topics"])


def test_classify_papers_takes_plain_objects_too(tmp_path, capsys):
    path = tmp_path / "papers.jsonl"
    plain = {
        "id": "2501.00001",
        "title": "Humanoid robot manipulation with a vision-language-action policy",
        "summary": "A VLA model controls a humanoid robot for dexterous manipulation in the real world.",
        "ai_keywords": ["robot learning"],
    }
    path.write_text(json.dumps(plain) + "\n")
    call_command("classify_papers", str(path))
    (row,) = classified(capsys)
    assert row["id"] == "2501.00001" and "robotics" in row["topics"]


def test_classify_papers_says_which_line_is_broken(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "title": "ok"}\n{not json\n')
    with pytest.raises(CommandError, match="line 2: not JSON"):
        call_command("classify_papers", str(path))
    with pytest.raises(CommandError, match="no file at"):
        call_command("classify_papers", str(tmp_path / "missing.jsonl"))


def test_eval_topics_runs_cross_validated_by_day_on_a_slice(capsys):
    call_command("eval_topics", "--days", "40", "--folds", "3")
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) >= {"macro_precision", "macro_recall", "macro_f1", "baseline_macro_f1", "topics"}
    assert set(summary["topics"]) == set(TOPICS)
    assert all(
        0 <= s[name] <= 1 for s in summary["topics"].values() for name in ("precision", "recall", "f1")
    )
    # Even trained on a few hundred papers, the classifier beats matching words.
    assert summary["macro_f1"] > summary["baseline_macro_f1"]
    assert lines[0].split()[:4] == ["topic", "P", "R", "F1"]
