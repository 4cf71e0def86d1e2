"""Instructions per digest of the send path, counted by Valgrind's callgrind: a figure the
machine's speed does not move (this machine's CPU time per digest moves by up to 2x between
sessions), for telling whether a change to the send path made it cheaper.

The send runs in one process - claim, rank, render, MIME message, the sink backend - over the
bench readers, `repeat` times, each time in a transaction that is rolled back. Two runs under
callgrind, one with one repeat and one with three, differ by two repeats of the steady state:
caches warm, Django, the URL routes and the stemmer's vocabulary loaded in both.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.test.utils import override_settings

from benchmarks.data import BENCH_DAY, BENCH_DOMAIN
from benchmarks.naive import rolled_back
from benchmarks.sink import SINK_KEY, sink_client
from newsletter.models import Delivery, Edition
from newsletter.sending.delivery import send_chunk
from subscribers.models import Subscriber

SINK = "benchmarks.sink.SinkEmailBackend"


def send_repeatedly(repeat: int) -> int:
    """Send the bench readers' digests `repeat` times, each rolled back; digests sent per time."""
    edition = Edition.objects.get(listed_on=BENCH_DAY)
    readers = list(Subscriber.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").values_list("pk", flat=True))
    sent = 0
    for _ in range(repeat):
        sent = rolled_back(lambda: send_once(edition, readers))
        sink_client().delete(SINK_KEY)
    return sent


def send_once(edition: Edition, readers: list[int]) -> int:
    rows = Delivery.objects.bulk_create([Delivery(edition=edition, subscriber_id=pk) for pk in readers])
    ids, size, sent = [row.pk for row in rows], settings.DIGEST_CHUNK_SIZE, 0
    with override_settings(EMAIL_BACKEND=SINK):
        for start in range(0, len(ids), size):
            sent += send_chunk(ids[start : start + size]).sent
    return sent


def instructions_per_digest(manage: Path) -> dict:
    """Run `manage.py bench_instructions --inner` under callgrind with 1 and 3 repeats."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("bench_instructions needs Valgrind (Debian: apt-get install valgrind)")
    counts, sent = {}, 0
    with tempfile.TemporaryDirectory() as folder:
        for repeat in (1, 3):
            out = Path(folder) / f"callgrind.{repeat}"
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                       str(manage), "bench_instructions", "--inner", str(repeat)]  # fmt: skip
            run = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 (our own command)
            sent = int(run.stdout.split()[-1])
            counts[repeat] = total_instructions(out.read_text())
    per_digest = (counts[3] - counts[1]) / (2 * sent) if sent else 0.0
    return {"digests": sent, "instructions_1": counts[1], "instructions_3": counts[3],
            "instructions_per_digest": round(per_digest)}  # fmt: skip


def total_instructions(callgrind_out: str) -> int:
    """The run's total instruction count: callgrind's "summary:" (or "totals:") line."""
    found = re.search(r"^(?:summary|totals): (\d+)", callgrind_out, re.MULTILINE)
    if found is None:
        raise RuntimeError("callgrind wrote no summary line")
    return int(found.group(1))
