"""`make run` from a checkout with no settings and an empty store, as a newcomer runs it: on the
embedded defaults (SQLite, the filesystem broker), with HF_BASE_URL at a local server holding the
real captures. The landing page lists papers within a minute of healthy; with Hugging Face
unreachable the log says so in one line and the site stays up. Afterwards the README's manage.py
commands work with nothing exported (the .env the run wrote)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from config.local_env import BASE_DIR
from papers.first_start import listing_days
from tests.papers.conftest import api_body, require_captures, serve_api
from tests.services import require, wait_for
from tests.smtp import free_port

CAPTURE_DAYS = ["2026-06-12", "2026-01-05", "2025-06-02", "2025-03-05", "2024-05-27"]


class MakeRun:
    """`make run` in its own process group, its output in a file."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        require(shutil.which("make") is not None, "needs make")
        self.port, self.log = free_port(), tmp_path / "make-run.log"
        self.env_file = tmp_path / ".env"
        drop = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "EMAIL_URL")
        self.env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
        self.env.update(ENV_FILE=str(self.env_file), VAR_DIR=str(tmp_path / "var"), WEB_PORT=str(self.port))
        self.env.update(PYTHON=sys.executable, **env)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "MakeRun":
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                ["make", "run"], cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as the README says
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
                return answer.status, answer.read().decode()
        except OSError:
            return 0, ""

    def healthy(self, timeout: float = 120) -> None:
        wait_for(lambda: self.get("/healthz")[0] == 200, timeout=timeout)

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def week_of_captures(httpserver):
    """The last seven listing days up to today, each served by the API from a real capture."""
    captures = require_captures()
    for n, day in enumerate(listing_days(timezone.localdate())):
        httpserver.expect_request(f"/papers/date/{day}").respond_with_data("not found", status=404)
        httpserver.expect_request("/papers", query_string=f"date={day}").respond_with_data("", status=404)
        serve_api(httpserver, day, api_body(captures, CAPTURE_DAYS[n]) if n < len(CAPTURE_DAYS) else "[]")
    return httpserver.url_for("/").rstrip("/")


def landing_titles(html: str) -> list[str]:
    top = html.split('id="latest-title"', 1)[-1]
    return re.findall(r'<li>\s*<a href="[^"]+" rel="noopener">([^<]+)</a>', top)


def test_make_run_fills_the_landing_page_within_a_minute_and_commands_work_after(tmp_path, week_of_captures):
    with MakeRun(tmp_path, HF_BASE_URL=week_of_captures) as run:
        run.healthy()
        healthy_at = time.monotonic()
        wait_for(lambda: landing_titles(run.get("/")[1]), timeout=60)
        filled_in = time.monotonic() - healthy_at
        assert "first fetch: day 1 of 7" in run.output()
    print(f"landing listed papers {filled_in:.1f} s after healthy")
    assert filled_in < 60
    env = values(run.env_file)
    assert env["DEBUG"] == "1" and len(env["SECRET_KEY"]) >= 50
    clean = {k: v for k, v in run.env.items() if k not in ("DEBUG", "SECRET_KEY")}
    help_run = subprocess.run([sys.executable, "manage.py", "scrape_papers", "--help"], cwd=BASE_DIR,
                              env=clean, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert help_run.returncode == 0, help_run.stderr


def test_make_run_with_hugging_face_unreachable_says_so_in_one_line_and_stays_up(tmp_path):
    unreachable = f"http://127.0.0.1:{free_port()}"
    with MakeRun(tmp_path, HF_BASE_URL=unreachable, HF_RETRY_BACKOFF="0") as run:
        run.healthy()
        wait_for(lambda: "Hugging Face is not reachable" in run.output(), timeout=90)
        status, html = run.get("/")
        assert status == 200 and "could not load the listing from Hugging Face" in html
        assert run.get("/healthz")[0] == 200
        log = run.output()
    lines = [line for line in log.splitlines() if "Hugging Face is not reachable" in line]
    assert len(lines) == 1, lines
    assert (
        f"not reachable at {unreachable}" in lines[0] and "python manage.py scrape_papers --from" in lines[0]
    )
    assert "Traceback" not in log


def values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)
