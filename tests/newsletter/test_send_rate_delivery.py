"""The send path under DIGEST_SEND_RATE: a chunk paces its sends, hands what it could not send
before its deadline to a new task without counting an attempt, and a 429 slows every sender."""

import time

import pytest

from newsletter.models import Delivery
from newsletter.sending import delivery, journal, send_rate
from newsletter.sending.delivery import send_chunk, send_in_process
from newsletter.sending.tick import run_tick
from tests.newsletter.personas import a_day_of_papers, reader, released_edition, video
from tests.reliability.harness import FakePostmark

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process_bucket(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DIGEST_SEND_RATE = 10.0
    settings.DIGEST_SEND_BURST = 1
    send_rate.reset()
    yield
    send_rate.reset()


def due(count: int) -> list[int]:
    """`count` readers due today's edition; the ids of their delivery rows, in one chunk."""
    topic = video()
    for n in range(count):
        reader(f"r{n}@example.test", [topic])
    a_day_of_papers()
    edition = released_edition()
    chunks: list[list[int]] = []
    run_tick(edition.released_at, chunks.append, edition, ignore_time=True)
    return [pk for chunk in chunks for pk in chunk]


def test_a_chunk_paces_its_sends(paperboy_smtp):
    ids = due(6)
    started = time.monotonic()
    counts = send_chunk(ids)
    took = time.monotonic() - started
    assert counts.sent == 6 and len(paperboy_smtp.messages) == 6
    assert took >= 0.5 - 0.02  # one at once, then one every 0.1 s


def test_what_misses_the_deadline_goes_back_unattempted(paperboy_smtp, settings):
    settings.DIGEST_CHUNK_DEADLINE = 0.25  # room for the sends at 0, 0.1 and 0.2 s
    ids = due(6)
    counts = send_chunk(ids)
    assert counts.sent == 3 and len(counts.deferred) == 3 and counts.retry == []
    deferred = Delivery.objects.filter(pk__in=counts.deferred)
    assert {(d.status, d.attempts, d.claim_token) for d in deferred} == {(Delivery.Status.PENDING, 0, "")}
    assert len(paperboy_smtp.messages) == 3
    # A run by hand sends them next, each once.
    more = send_in_process(counts.deferred)
    assert more.sent == 3 and more.deferred == []
    assert sorted(str(m["To"]) for m in paperboy_smtp.messages) == [f"r{n}@example.test" for n in range(6)]


def test_a_429_holds_the_next_send_for_its_retry_after(settings):
    esp = FakePostmark(["429"])  # Retry-After: 1
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "test", "POSTMARK_API_URL": esp.url}
    settings.DIGEST_SEND_RATE = None  # no bucket: the hold alone
    try:
        counts = send_chunk(due(3))
    finally:
        esp.stop()
    assert esp.answers == ["429", "200", "200"]
    assert counts.sent == 2 and len(counts.retry) == 1
    assert esp.times[1] - esp.times[0] >= 1.0 - 0.02


@pytest.mark.parametrize(
    ("rate", "order"),
    [
        # Paced: the slot right before the hand-over, so rendering does not make the pace uneven;
        # "handing" only after the wait, so a crash while waiting leaves nothing in doubt.
        (10.0, ["build", "slot", "handing"]),
        # No rate: only a throttle's hold is checked first, and the journal's round trip
        # overlaps the rendering.
        (None, ["slot", "handing", "build"]),
    ],
)
def test_with_a_rate_the_slot_is_taken_between_the_build_and_the_hand_over(
    rate, order, settings, monkeypatch
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DIGEST_SEND_RATE = rate
    events: list[str] = []

    def noting(name: str, real):
        def call(*args, **kwargs):
            events.append(name)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(delivery, "build_message", noting("build", delivery.build_message))
    monkeypatch.setattr(send_rate, "reserve", noting("slot", send_rate.reserve))
    monkeypatch.setattr(journal, "record_handing", noting("handing", journal.record_handing))
    monkeypatch.setattr(journal, "begin_handing", noting("handing", journal.begin_handing))
    counts = send_chunk(due(2))
    assert counts.sent == 2
    assert events == order * 2
