"""A mail backend for benchmarks: each message is serialised to the bytes an SMTP server or ESP
would receive, counted and dropped.

What it saw is pushed to Redis (`SINK_KEY`), one RPUSH per connection (a chunk), so the
benchmark can check across worker processes that every due digest went out exactly once.
Each record is "delivery id, bytes, HTML bytes, milliseconds since the previous message on this
connection, wall-clock time" - the fourth being the time the send path spent on that digest
(rank, render, build, serialise), the last when it was handed over. Never configure it in
production: it sends nothing.
"""

import time
from typing import NamedTuple

import redis
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

SINK_KEY = "paperboy:bench:sink"


def sink_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


class SinkEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.records: list[str] = []
        self.last = time.perf_counter()

    def open(self) -> bool:
        self.last = time.perf_counter()
        return True

    def close(self) -> None:
        if self.records:
            sink_client().rpush(SINK_KEY, *self.records)
            self.records = []

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            raw = message.message().as_bytes()
            html = next((content for content, mime in message.alternatives if mime == "text/html"), "")
            now = time.perf_counter()
            delivery = message.extra_headers.get("X-Paperboy-Delivery", "")
            spent = (now - self.last) * 1000
            self.records.append(f"{delivery},{len(raw)},{len(html.encode())},{spent:.3f},{time.time():.6f}")
            self.last = now
        return len(email_messages)


class SinkRecord(NamedTuple):
    delivery: str
    size: int
    html: int
    ms: float
    at: float  # time.time() at the hand-over


def read_sink(client: redis.Redis) -> list[SinkRecord]:
    """The records pushed so far."""
    rows = []
    for raw in client.lrange(SINK_KEY, 0, -1):
        delivery, size, html, ms, at = raw.decode().split(",")
        rows.append(SinkRecord(delivery, int(size), int(html), float(ms), float(at)))
    return rows
