"""The evaluation runs end to end on real archive days and the learned ranking wins there."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.services import require

ARCHIVE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"


@pytest.mark.django_db  # the topic model in use is looked up there
def test_learned_ranking_beats_topic_matching_after_a_few_days_of_votes(capsys):
    require(ARCHIVE.exists(), f"needs the listing archive at {ARCHIVE}")
    call_command(
        "eval_ranking", "--archive", str(ARCHIVE), "--from", "2026-05-01", "--days", "10", "--warmup", "3"
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 11  # a line per day, then the summary
    summary = json.loads(lines[-1])
    assert summary["days"] == 10 and summary["readers"] == 6
    assert summary["learned_p5"] > summary["topic_p5"]
    assert summary["learned_p10"] >= summary["topic_p10"]


def test_it_says_when_the_archive_is_missing(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No archive at"):
        call_command("eval_ranking", "--archive", str(tmp_path / "nope.jsonl.gz"))
