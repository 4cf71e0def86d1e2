"""Real processes for fault scenarios: Celery workers as subprocesses on the test database
and Redis, a slow real SMTP server, and checks that the ledger and the mailbox agree."""

import asyncio
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection, transaction

from config.celery import app as celery_app
from newsletter.models import Delivery, Edition
from newsletter.sending.tick import run_tick
from newsletter.tasks import dispatch_after_commit
from tests.newsletter.personas import DAY, a_day_of_papers, reader, released_edition, video
from tests.postfix import private_postfix
from tests.services import port_open, require_program, wait_for
from tests.smtp import Inbox, free_port
from tests.smtp_proxy import LosingProxy

ROOT = Path(__file__).resolve().parents[2]
# Not code: what a copy of the tree for the worker processes leaves out.
NOT_CODE = (".git", ".venv", "node_modules", "var", "staticfiles", "test-artifacts", "__pycache__", ".*cache")


def copy_of_the_code(root: Path = ROOT) -> Path:
    """A copy of the tree, taken now, for the worker processes to run (removed at exit).

    The working tree is shared and edited while `make reliability` runs (16 minutes). Workers
    started from it late in the run once ran a journal writing keys the test process, which
    had imported the earlier one, could not read: every digest of the killed chunk then read
    as lost. Workers started from this copy run the code this process imported."""
    copy = Path(tempfile.mkdtemp(prefix="paperboy-code-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(*NOT_CODE), dirs_exist_ok=True)
    return copy


# Taken when the test process imports this module, i.e. along with the code it runs itself.
CODE = copy_of_the_code()


class SlowInbox(Inbox):
    """Answers each message `delay` seconds after its dot, so a kill lands in the middle of a
    chunk. Like a real MTA it has the message once it read the dot (Postfix queues it before
    replying): a client that dies waiting for the reply has still sent it."""

    delay = 0.05

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


class SlowSmtp:
    """A SlowInbox server (aiosmtpd) that can stop and start again on its port."""

    label = ""  # appended to the scenario's name in the runs' record

    def __init__(self, delay: float) -> None:
        self.inbox = SlowInbox()
        self.inbox.delay = delay
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> "SlowSmtp":
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    remove = stop

    def accepted(self) -> int:
        """Messages the server has (their dot read)."""
        return len(self.inbox.messages)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


class SlowPostfix:
    """Debian's Postfix (tests/postfix.py) behind a loopback proxy that passes each reply to a
    dot on `delay` seconds late: like SlowInbox, it has the message once it read the dot."""

    label = " (Postfix)"

    def __init__(self, delay: float) -> None:
        self.server = private_postfix()
        self.proxy = LosingProxy(self.server.port, delay=delay)
        self.port = self.proxy.port

    def start(self) -> "SlowPostfix":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def remove(self) -> None:
        self.proxy.close()
        self.server.remove()

    def accepted(self) -> int:
        return self.proxy.dots

    @property
    def messages(self) -> list[EmailMessage]:
        """What reached the Maildir, once Postfix delivered everything it took."""
        return self.server.drained()


# The workers' connections carry this name, so a scenario can drop exactly those (and not the
# connections other tests' live servers keep to the same database).
WORKER_APPLICATION_NAME = "paperboy-reliability-worker"


def database_url() -> str:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}@{host}/{db['NAME']}?application_name={WORKER_APPLICATION_NAME}"


def purge_broker() -> None:
    """Drop every task message of the test's broker: queued ones (retries, beat's ticks, chunks
    of an earlier run) and those a worker took but never acknowledged, which the broker would
    hand out again after the visibility timeout."""
    with celery_app.connection_for_write() as broker:
        channel = broker.default_channel
        channel.queue_purge(celery_app.conf.task_default_queue)
        channel.client.delete(channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key)


# Every process a scenario starts, so none outlives its run (conftest.py stops any left).
started: list["CeleryProcess | RedisServer"] = []


def stop_leftovers() -> list[str]:
    """Stop the processes still running; their commands."""
    left = [p for p in dict.fromkeys(started) if p.process is not None and p.process.poll() is None]
    for process in left:
        process.stop()
    started.clear()
    return [" ".join(map(str, p.process.args)) for p in left]


class CeleryProcess:
    """A `celery` command in a subprocess (on the code copy) on the test database, Redis and
    SMTP server."""

    log: Path | None = None  # stderr (Celery's log) goes here when set

    def __init__(self, arguments: list[str], smtp_port: int | None = None, **env: str) -> None:
        mail = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"} if smtp_port else {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.CELERY_BROKER_URL,
            **mail,
            **env,
        }
        self.arguments = arguments
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryProcess":
        command = [sys.executable, "-m", "celery", "-A", "config", *self.arguments]
        stderr = self.log.open("a") if self.log else None
        self.process = subprocess.Popen(
            command, cwd=CODE, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        started.append(self)
        return self

    def logged(self) -> str:
        return self.log.read_text() if self.log else ""

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


class WorkerProcess(CeleryProcess):
    """`celery worker --pool solo`: SIGKILL kills the process that sends."""

    def __init__(
        self, smtp_port: int | None = None, name: str = "w1", log: Path | None = None, **env: str
    ) -> None:
        level = "INFO" if log else "WARNING"
        arguments = ["worker", "--pool", "solo", "--hostname", f"{name}@%h", "--loglevel", level]
        super().__init__([*arguments, "--without-mingle", "--without-gossip"], smtp_port, **env)
        self.log = log


class BeatProcess(CeleryProcess):
    """`celery beat` on django-celery-beat's DatabaseScheduler (as in production)."""

    def __init__(self, log: Path, **env: str) -> None:
        # The database scheduler keeps its state in PostgreSQL, not in this file.
        schedule = str(log.with_suffix(".schedule"))
        super().__init__(["beat", "--loglevel", "INFO", "--schedule", schedule], **env)
        self.log = log


class RedisServer:
    """A redis-server of our own on a free port, with AOF persistence as docker-compose.yml
    runs it, so a test can restart it without touching the shared one."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        command = [require_program("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--appendonly", "yes", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        started.append(self)
        wait_for(lambda: port_open("127.0.0.1", self.port), timeout=10)
        return self

    def stop(self) -> None:
        """SIGTERM: Redis flushes its AOF and exits, as on a restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_until_settled(timeout: float = 60.0) -> None:
    in_flight = [Delivery.Status.PENDING, Delivery.Status.SENDING]
    wait_for(lambda: not Delivery.objects.filter(status__in=in_flight).exists(), timeout=timeout)


def tally(inbox: Inbox, addresses: list[str]) -> dict[str, int]:
    """Messages each address received (0 = missing, 2+ = duplicated)."""
    received = Counter(str(m["To"]) for m in inbox.messages)
    return {address: received.get(address, 0) for address in addresses}


def how_they_came(inbox: Inbox, addresses: Iterable[str]) -> str:
    """For each address, its ledger row and every copy's Message-ID and Received line. One
    server queue id on two copies is the server delivering one message twice (as Postfix might
    when stopped between writing the mailbox and recording it); two ids are two SMTP
    transactions, ours."""
    messages = inbox.messages  # read once: Postfix's waits for its queue to drain
    lines = []
    for address in addresses:
        for row in Delivery.objects.filter(subscriber__email=address):
            lines.append(f"{address}: row {row.pk} {row.status}, attempts {row.attempts}, {row.error!r}")
        for message in messages:
            if str(message["To"]) == address:
                received = " ".join(str(message.get("Received", "")).split())
                lines.append(f"  copy {message['Message-ID']} received {received}")
    return "\n".join(lines)


def assert_ledger_agrees(inbox: Inbox) -> None:
    """Every row recorded as sent has exactly one message, and no message lacks a sent or
    unknown row."""
    received = Counter(str(m["To"]) for m in inbox.messages)
    for delivery in Delivery.objects.select_related("subscriber"):
        count = received.get(delivery.subscriber.email, 0)
        if delivery.status == Delivery.Status.SENT:
            assert count == 1, (delivery, count)
        elif delivery.status != Delivery.Status.UNKNOWN:
            assert count == 0, (delivery, count)


# Tells apart the lines of test sessions that ran at the same time (the file is shared).
SESSION = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}Z/{os.getpid()}"


def record_run(
    scenario: str,
    counts: dict[str, int],
    unknown: int,
    recovery_tick: bool = False,
    in_doubt: frozenset[str] = frozenset(),
) -> None:
    """Append one run's outcome to test-artifacts/reliability.jsonl (the table in the notes).
    `in_doubt`: readers whose row is "unknown" where the server itself may have lost the message:
    one of them with no digest counts as in_doubt_lost, not as missing."""
    duplicates = sum(1 for c in counts.values() if c > 1)
    missing = sum(1 for a, c in counts.items() if c == 0 and a not in in_doubt)
    line = {
        "session": SESSION,
        "scenario": scenario,
        "readers": len(counts),
        "duplicates": duplicates,
        "missing": missing,
        "unknown": unknown,
        "in_doubt_lost": sum(1 for a in in_doubt if counts.get(a) == 0),
        "recovery_tick": recovery_tick,
    }
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    with (out / "reliability.jsonl").open("a") as file:
        file.write(json.dumps(line) + "\n")


class FakePostmark:
    """Postmark's email API on 127.0.0.1 (the ESP is the one remote part that is mocked). The
    first requests get `failures` in turn: "500"; "429" with Retry-After; "hang": no answer
    until the client has timed out, and the message is not accepted. Then 200, accepted.
    `storm` seconds: from the first request on, every request gets a 429 with Retry-After 1 for
    that long (a throttling ESP). `times`: when each request came (time.monotonic())."""

    def __init__(self, failures: list[str], hang: float = 0.0, storm: float = 0.0) -> None:
        self.messages: list[dict] = []  # accepted, with "To" like an Inbox's messages
        self.answers: list[str] = []
        self.times: list[float] = []
        self.failures, self.hang, self.storm = list(failures), hang, storm
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, payload: dict) -> tuple[int, dict, dict]:
        with self._lock:
            now = time.monotonic()
            self.times.append(now)
            failure = self.failures.pop(0) if self.failures else "200"
            if self.storm and now < self.times[0] + self.storm:
                failure = "429"
            self.answers.append(failure)
            if failure == "200":
                self.messages.append({"To": payload["To"]})
        if failure == "hang":
            time.sleep(self.hang)
            return 500, {}, {"ErrorCode": 500, "Message": "gave up"}
        if failure == "429":
            return 429, {"Retry-After": "1"}, {"ErrorCode": 429, "Message": "Rate limit exceeded"}
        if failure == "500":
            return 500, {}, {"ErrorCode": 500, "Message": "Internal server error"}
        accepted = {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": payload["To"]}
        return 200, {}, accepted

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, headers, body = fake.answer(payload)
                try:
                    self.send_response(status)
                    for name, value in {**headers, "Content-Type": "application/json"}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(json.dumps(body).encode())
                except OSError:  # the client timed out and left
                    pass

            def log_message(self, *args) -> None:
                pass

        return Handler

    def busiest_second(self) -> int:
        """The most requests that came within any one second."""
        times = sorted(self.times)
        return max((sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)), default=0)


# --- one run of a scenario ----------------------------------------------------------------------
def due_readers(
    prefix: str, count: int, day: date = DAY, released: datetime | None = None, **fields
) -> tuple[list[str], Edition]:
    """`count` readers due a digest of a released edition (their addresses, the edition)."""
    topic = video()
    addresses = [reader(f"{prefix}-{i}@example.test", [topic], **fields).email for i in range(count)]
    a_day_of_papers(day)
    return addresses, released_edition(day, at=released)


def tick(edition: Edition, later: timedelta = timedelta(0), dispatch=dispatch_after_commit) -> None:
    with transaction.atomic():
        run_tick(datetime.now(UTC) + later, dispatch, edition, ignore_time=True)


def past_recovery() -> timedelta:
    """How far to move time on for a tick to settle a dead task's rows and redispatch what a
    lost task left pending (rather than waiting for it)."""
    task_over = settings.CELERY_TASK_TIME_LIMIT + settings.DIGEST_RECOVERY_GRACE
    return timedelta(seconds=max(task_over, 2 * settings.CELERY_MAX_RETRY_DELAY) + 1)


def settle(edition: Edition, dispatch=dispatch_after_commit, patience: float = 8.0) -> bool:
    """Wait for the workers to send what they can. If rows are still in flight after `patience`
    (a task was lost), run the tick production would run later: it settles a dead task's rows
    and redispatches what a lost task left. True if that recovery tick was needed."""
    try:
        wait_until_settled(timeout=patience)
        return False
    except AssertionError:
        tick(edition, later=past_recovery(), dispatch=dispatch)
        wait_until_settled()
        return True


def assert_exactly_once(
    scenario: str,
    inbox,
    addresses: list[str],
    unknown_allowed: int = 0,
    recovery_tick: bool = False,
    server_may_lose: bool = False,
) -> None:
    """Record the run, then: every reader got exactly one digest, and the ledger agrees.

    `server_may_lose`: the scenario stops the mail server itself, which may die after reading a
    message's dot and before storing it (Postfix killed between the two). The client cannot tell
    that from a lost reply, so the row is "unknown" and, by the journal's rule, never resent
    (a curator may resend it, with the same Message-ID): that reader gets at most one digest."""
    counts = tally(inbox, addresses)
    in_doubt = Delivery.objects.filter(status=Delivery.Status.UNKNOWN)
    doubtful = frozenset(str(e) for e in in_doubt.values_list("subscriber__email", flat=True))
    unknown = len(doubtful)
    record_run(
        scenario + getattr(inbox, "label", ""), counts, unknown, recovery_tick,
        doubtful if server_may_lose else frozenset(),
    )  # fmt: skip
    allowed = {0, 1} if server_may_lose else {1}
    wrong = {a: counts[a] for a in addresses if counts[a] not in (allowed if a in doubtful else {1})}
    assert wrong == {}, f"not exactly one digest each: {wrong}\n{how_they_came(inbox, wrong)}"
    assert unknown <= unknown_allowed, "only a message being handed over at a crash may be in doubt"
    assert_ledger_agrees(inbox)
