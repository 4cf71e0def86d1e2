"""Real processes for fault scenarios: Celery workers as subprocesses on the test database
and Redis, a slow real SMTP server, and checks that the ledger and the mailbox agree."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

from newsletter.models import Delivery
from tests.services import wait_for
from tests.smtp import Inbox

ROOT = Path(__file__).resolve().parents[2]


class SlowInbox(Inbox):
    """Answers each message `delay` seconds after its dot, so a kill lands in the middle of a
    chunk. Like a real MTA it has the message once it read the dot (Postfix queues it before
    replying): a client that dies waiting for the reply has still sent it."""

    delay = 0.05

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """`celery worker --pool solo` in a subprocess: SIGKILL kills the process that sends."""

    def __init__(self, smtp_port: int, name: str = "w1", **env: str) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CONN_MAX_AGE": "0",
            **env,
        }
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
        command += [
            "--hostname",
            f"{self.name}@%h",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL)
        return self

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


def wait_until_settled(timeout: float = 60.0) -> None:
    in_flight = [Delivery.Status.PENDING, Delivery.Status.SENDING]
    wait_for(lambda: not Delivery.objects.filter(status__in=in_flight).exists(), timeout=timeout)


def tally(inbox: Inbox, addresses: list[str]) -> dict[str, int]:
    """Messages each address received (0 = missing, 2+ = duplicated)."""
    received = Counter(str(m["To"]) for m in inbox.messages)
    return {address: received.get(address, 0) for address in addresses}


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


def record_run(scenario: str, counts: dict[str, int], unknown: int) -> None:
    """Append one run's outcome to test-artifacts/reliability.jsonl (the table in the notes)."""
    import json

    duplicates = sum(1 for c in counts.values() if c > 1)
    missing = sum(1 for c in counts.values() if c == 0)
    line = {
        "scenario": scenario,
        "readers": len(counts),
        "duplicates": duplicates,
        "missing": missing,
        "unknown": unknown,
    }
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    with (out / "reliability.jsonl").open("a") as file:
        file.write(json.dumps(line) + "\n")
