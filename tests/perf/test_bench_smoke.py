"""Small runs of the committed benchmarks, so they cannot rot: the real send path on worker
processes, and gunicorn loaded by wrk. Figures are not asserted (speed is measured by the
commands themselves); what is asserted is that each run completes and is correct."""

import json
import socket

import pytest
from django.core.management import call_command

from benchmarks import spy
from benchmarks.data import BENCH_DOMAIN
from newsletter.models import Delivery
from subscribers.models import Subscriber
from tests.services import require_postgres, require_program, require_redis

pytestmark = pytest.mark.django_db(transaction=True)


def last_json_line(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bench_digests_sends_every_due_digest_exactly_once_on_real_workers(capsys):
    require_postgres()
    require_redis()
    call_command("bench_digests", "--subscribers", "120", "--naive-sample", "20", "--chunk-size", "25")
    result = last_json_line(capsys.readouterr().out)
    assert result["subscribers"] == 120
    assert result["sent"] + result["skipped"] == 120
    assert result["sent"] > 100  # most synthetic readers match something
    assert (result["duplicates"], result["missing"]) == (0, 0)
    # Chunks of 10 and of 25 readers, with different topic mixes, cost the same queries.
    assert result["queries_per_chunk"] == result["queries_per_small_chunk"]
    for key in ("wall_s", "digests_per_s", "naive_digests_per_s", "speedup", "p95_ms_per_digest",
                "peak_rss_mb", "html_kb_p95"):  # fmt: skip
        assert result[key] > 0, key
    assert 0 < result["first_digest_s"] < result["wall_s"]
    assert result["machine_busy_cores"] > 0 and result["postgres_cpu_s"] > 0
    assert result["reference_ms"] > 0
    # Nothing of the run is left behind.
    assert not Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").exists()
    assert not Delivery.objects.exists()


def test_the_py_spy_summary_adds_each_project_function_once_per_sample(tmp_path):
    send = "main (celery/x.py:1);send_chunk (newsletter/sending/delivery.py:200)"
    rank = "rank (newsletter/ranking/rank.py:9)"
    (tmp_path / "worker0.txt").write_text(
        f"{send};{rank};{rank} 3\n"  # a recursive call counts once
        f"{send};wait (psycopg/connection.py:5) 1\n"
    )
    (tmp_path / "worker1.txt").write_text("main (celery/x.py:1);_epoll.poll (kombu/utils/eventio.py:83) 4\n")
    project, spent = spy.summary(tmp_path).split("where the time is spent")
    assert "8 samples" in project and "celery/x.py" not in project
    assert "50.0%  send_chunk (newsletter/sending/delivery.py:200)" in project
    assert "37.5%  rank (newsletter/ranking/rank.py:9)" in project
    assert "50.0%  _epoll.poll (kombu/utils/eventio.py:83)" in spent
    assert "12.5%  wait (psycopg/connection.py:5)" in spent


def test_bench_web_posts_valid_signups_and_one_click_unsubscribes_through_gunicorn(capsys):
    require_postgres()
    require_redis()
    require_program("wrk")
    call_command("bench_web", "--duration", "3", "--requests", "40", "--port", str(free_port()))
    result = last_json_line(capsys.readouterr().out)
    for name in ("signup", "unsubscribe"):
        phase = result[name]
        assert phase["requests"] >= 40, phase
        assert phase["errors"] == 0, phase
        assert 0 < phase["p50_ms"] <= phase["p95_ms"] <= phase["p99_ms"], phase
    assert result["reference_ms"] > 0
    assert not Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").exists()


def test_bench_tick_times_each_phase_and_leaves_nothing(capsys):
    require_postgres()
    call_command("bench_tick", "--subscribers", "150", "--repeat", "2")
    result = last_json_line(capsys.readouterr().out)
    assert [r["rows"] for r in result["repeats"]] == [150, 150]  # every synthetic reader is due
    assert result["reference_ms"] > 0
    for run in result["repeats"]:
        phases = run["due_s"] + run["order_s"] + run["insert_s"] + run["commit_s"]
        assert 0 < phases <= run["total_s"] + 0.002  # five figures, each rounded to the millisecond
    assert not Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").exists()
    assert not Delivery.objects.exists()


def test_bench_instructions_sends_the_bench_readers_and_leaves_nothing_behind(capsys):
    """The part that runs under callgrind (valgrind itself is too slow for the suite)."""
    import random

    from benchmarks.data import bench_day, purge

    require_postgres()
    require_redis()
    bench_day(30, random.Random(7))
    try:
        call_command("bench_instructions", "--inner", "2")
        sent = int(capsys.readouterr().out.split()[-1])
        assert 20 < sent <= 30  # most synthetic readers match something
        assert not Delivery.objects.exists()  # each repeat rolled back
    finally:
        purge()


def test_callgrinds_total_is_read_from_its_summary_line():
    from benchmarks.instructions import total_instructions

    out = "version: 1\ncmd: python manage.py\nevents: Ir\nfn=(1) main\n0 12\nsummary: 6726721164\n"
    assert total_instructions(out) == 6726721164
    with pytest.raises(RuntimeError):
        total_instructions("events: Ir\n")
