"""The first `make run` writes a local settings file, so manage.py commands work afterwards with
nothing exported; it never overwrites one, and without it production stays strict."""

import os
import subprocess
import sys
from pathlib import Path

from config.local_env import BASE_DIR, write_local_env

EXAMPLE = BASE_DIR / ".env.example"


def values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_it_writes_local_values_and_a_fresh_secret_from_the_example(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert write_local_env(first, EXAMPLE) and write_local_env(second, EXAMPLE)
    env = values(first)
    assert env["DEBUG"] == "1"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["SITE_URL"] == "http://127.0.0.1:8000"  # not https: no SSL redirect on a laptop
    assert len(env["SECRET_KEY"]) >= 50 and env["SECRET_KEY"] != "change-me"
    assert env["SECRET_KEY"] != values(second)["SECRET_KEY"]
    assert env["POSTAL_ADDRESS"] == values(EXAMPLE)["POSTAL_ADDRESS"]  # the rest as in the example
    assert first.stat().st_mode & 0o077 == 0  # it holds a secret


def test_it_never_overwrites_an_existing_file(tmp_path):
    mine = tmp_path / ".env"
    mine.write_text("DEBUG=0\nSECRET_KEY=mine\n")
    assert not write_local_env(mine, EXAMPLE)
    assert mine.read_text() == "DEBUG=0\nSECRET_KEY=mine\n"


def manage(*args: str, env_file: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env.update(ENV_FILE=env_file, VAR_DIR=env.get("VAR_DIR", ""))
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=BASE_DIR)


def test_manage_py_commands_work_with_the_written_file_and_not_without_one(tmp_path):
    written = tmp_path / ".env"
    subprocess.run([sys.executable, "-m", "config.local_env"], env={**os.environ, "ENV_FILE": str(written)},
                   check=True, cwd=BASE_DIR, capture_output=True)  # fmt: skip
    ok = manage("scrape_papers", "--help", env_file=str(written))
    assert ok.returncode == 0, ok.stderr
    assert "Scrape the Hugging Face Daily Papers listing" in ok.stdout
    strict = manage("scrape_papers", "--help", env_file=str(tmp_path / "none.env"))
    assert strict.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in strict.stderr
