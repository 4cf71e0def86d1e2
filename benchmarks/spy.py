"""py-spy on the benchmark's workers: where their wall time goes during the send, idle waits
(a Redis or PostgreSQL reply, the broker) included, read from py-spy's collapsed stacks."""

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Frames of these files are the send path's; the rest (Django, psycopg, redis-py) is shown by
# the project frame that called it.
PROJECT_DIRS = ("newsletter/", "subscribers/", "papers/", "config/", "benchmarks/")


def start(pids: list[int], folder: Path) -> list[subprocess.Popen]:
    """`py-spy record` on each worker, idle threads included, until stop()."""
    beside = Path(sys.executable).with_name("py-spy")  # the virtualenv's, off PATH under make
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("--py-spy needs py-spy (pip install -r requirements-dev.txt)")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(  # noqa: S603 (py-spy from PATH, our own arguments)
            [spy, "record", "--pid", str(pid), "--idle", "--nonblocking", "--rate", "250", "--format", "raw",
             "--output", str(folder / f"worker{n}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(pids)
    ]  # fmt: skip


def stop(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    for spy in spies:
        spy.wait(timeout=60)


def summary(folder: Path, top: int = 20) -> str:
    """The share of samples in each project function (inclusive), and in each outside function
    where the time is actually spent (self), over every worker's file."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in sorted(folder.glob("worker*.txt")):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            total += int(count)
            own[frames[-1]] += int(count)
            for frame in set(frames):
                if any(f" ({d}" in frame or f"/{d}" in frame for d in PROJECT_DIRS):
                    inclusive[frame] += int(count)
    if not total:
        return "py-spy: no samples"
    lines = [f"py-spy: {total} samples over the send (idle included); project code, inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("where the time is spent (self):")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
