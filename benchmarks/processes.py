"""Worker processes for the benchmarks: started with the production settings, measured (CPU,
peak RSS), stopped."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app


# --- workers ----------------------------------------------------------------------------------
def database_url() -> str:
    """This process's database as a URL, so that subprocesses use the very same one (under
    pytest, the test database rather than the one DATABASE_URL names)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_workers(count: int, chunk_size: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "benchmarks.sink.SinkEmailBackend",
        "DIGEST_CHUNK_SIZE": str(chunk_size),
    }
    stamp = f"{os.getpid()}-{time.time_ns()}"
    return [
        subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel",
             "WARNING", "--without-gossip", "--without-mingle", "-n", f"bench{i}-{stamp}@%h"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(count)
    ]  # fmt: skip


def wait_until_ready(workers: list[subprocess.Popen], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a benchmark worker exited at start; run it by hand to see why")
        replies = celery_app.control.ping(timeout=0.5) or []
        if len(replies) >= len(workers):
            return
    raise RuntimeError(f"the workers were not ready after {timeout:.0f} s")


def peak_rss_mb(worker: subprocess.Popen) -> float:
    """The worker's high-water resident set (VmHWM): with the solo pool it ran every task."""
    for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(worker: subprocess.Popen | int, children: bool = False) -> float:
    """User + system CPU the process used so far: unlike wall time, not inflated by other
    processes competing for the cores. `children`: with its children that ended and were
    waited for."""
    pid = worker if isinstance(worker, int) else worker.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def reference_ms() -> float:
    """How fast this machine runs Python now: the fastest of 20 runs of a fixed pure-Python
    workload, in CPU milliseconds. This machine's speed moves by up to 2x between sessions, so a
    benchmark prints it beside its figures: divided by it, figures from two sessions compare."""
    best = float("inf")
    for _ in range(20):
        started = time.process_time()
        sum(i * i for i in range(100_000))
        best = min(best, time.process_time() - started)
    return round(best * 1000, 2)


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (not idle, not waiting on I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def service_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the PostgreSQL and Redis server processes on this machine,
    with their children that ended: a backend whose connection closed (CONN_MAX_AGE) took its
    CPU time with it, but its parent, the postmaster, counts it once it reaped it."""
    totals = {"postgres": 0.0, "redis": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        service = (
            "postgres" if name.startswith("postgres") else "redis" if name.startswith("redis-server") else ""
        )
        if service:
            totals[service] += cpu_seconds(int(stat.parent.name), children=True)
    return totals


def system_cpu_seconds(worker: subprocess.Popen) -> float:
    """The kernel's share of cpu_seconds: system calls (sockets to Redis, PostgreSQL, the broker)."""
    fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live children (gunicorn's master and workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)  # warm shutdown
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
