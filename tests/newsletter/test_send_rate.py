"""The send rate (newsletter.sending.send_rate): a bucket shared in Redis, or held in the process
without Redis; a throttle from the ESP holds every worker and halves the rate for a while."""

import smtplib
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from anymail.exceptions import AnymailAPIError
from django.conf import settings as django_settings

from newsletter.sending import send_rate
from tests.services import require_redis

FAR = 3600.0  # a max_wait that never refuses


@pytest.fixture(params=["process", "redis"])
def bucket(request, settings):
    """The bucket kept in the process (no Redis: the one-machine defaults) or in Redis."""
    if request.param == "redis":
        require_redis()
        settings.CACHES = {
            "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": django_settings.REDIS_URL}
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DIGEST_SEND_RATE = 10.0
    settings.DIGEST_SEND_BURST = 3
    send_rate.reset()
    yield request.param
    send_rate.reset()


def schedule(count: int) -> list[float]:
    """Reserve `count` sends at once: when each may go, in seconds from now."""
    start = time.monotonic()
    return [time.monotonic() - start + send_rate.reserve(FAR) for _ in range(count)]


def test_a_burst_goes_at_once_then_one_per_interval(bucket):
    slots = schedule(6)
    assert slots[:3] == pytest.approx([0, 0, 0], abs=0.02)
    assert slots[3:] == pytest.approx([0.1, 0.2, 0.3], abs=0.02)


def test_no_slot_within_max_wait_reserves_nothing(bucket):
    schedule(3)  # the burst is spent; the next slot is 0.1 s away
    assert send_rate.reserve(max_wait=0.05) is None
    assert send_rate.reserve(max_wait=0.05) is None
    # Nothing was reserved by the refusals: the next slot is still the first one.
    assert send_rate.reserve(FAR) == pytest.approx(0.1, abs=0.02)


def test_no_rate_means_no_wait(bucket, settings):
    settings.DIGEST_SEND_RATE = None
    assert [send_rate.reserve(FAR) for _ in range(100)] == [0.0] * 100


def test_a_throttle_holds_every_sender_then_halves_the_rate(bucket, settings):
    settings.DIGEST_THROTTLE_COOLDOWN = 30
    send_rate.slow_down(retry_after=0.5)
    slots = schedule(3)
    # The first send waits out the hold; no burst after it, and the interval is doubled.
    assert slots == pytest.approx([0.5, 0.7, 0.9], abs=0.03)
    send_rate.slow_down(retry_after=0)  # a second throttle within the cool-down: a quarter
    start = time.monotonic()
    later = [time.monotonic() - start + send_rate.reserve(FAR) for _ in range(2)]
    assert later[1] - later[0] == pytest.approx(0.4, abs=0.03)


def test_the_slow_down_never_goes_below_a_sixteenth(bucket, settings):
    settings.DIGEST_THROTTLE_COOLDOWN = 30
    settings.DIGEST_SEND_BURST = 1
    for _ in range(10):
        send_rate.slow_down(retry_after=0)
    schedule(1)
    start = time.monotonic()
    later = [time.monotonic() - start + send_rate.reserve(FAR) for _ in range(2)]
    assert later[1] - later[0] == pytest.approx(0.1 * send_rate.MAX_SLOWDOWN, abs=0.03)


def test_the_slow_down_ends_after_the_cool_down(bucket, settings):
    settings.DIGEST_THROTTLE_COOLDOWN = 1
    send_rate.slow_down(retry_after=0)
    time.sleep(1.3)
    schedule(3)
    start = time.monotonic()
    later = [time.monotonic() - start + send_rate.reserve(FAR) for _ in range(2)]
    assert later[1] - later[0] == pytest.approx(0.1, abs=0.03)


def test_without_a_rate_a_throttle_still_holds(bucket, settings):
    settings.DIGEST_SEND_RATE = None
    send_rate.slow_down(retry_after=0.4)
    assert send_rate.reserve(FAR) == pytest.approx(0.4, abs=0.05)
    assert send_rate.reserve(max_wait=0.1) is None


def test_the_hold_is_capped(bucket, settings):
    settings.DIGEST_THROTTLE_MAX_PAUSE = 1.0
    send_rate.slow_down(retry_after=3600)
    assert send_rate.reserve(FAR) == pytest.approx(1.0, abs=0.05)


def test_senders_in_threads_share_one_bucket(bucket, settings):
    """8 senders at once never get more than rate + burst slots in any second."""
    settings.DIGEST_SEND_RATE = 20.0
    settings.DIGEST_SEND_BURST = 2
    start = time.monotonic()
    slots: list[float] = []
    lock = threading.Lock()

    def sender() -> None:
        for _ in range(10):
            at = time.monotonic() - start + send_rate.reserve(FAR)
            with lock:
                slots.append(at)

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    assert len(slots) == 80
    busiest = max(sum(1 for s in slots if t <= s < t + 1.0) for t in slots)
    assert busiest <= 20 + 2
    # And the bucket is used, not starved: 80 sends take about (80 - 2) / 20 s.
    assert slots[-1] == pytest.approx(78 / 20, abs=0.1)


# --- what counts as a throttle ----------------------------------------------------------------
class Response:
    def __init__(self, status: int, headers: dict) -> None:
        self.status_code, self.headers = status, headers


def esp_error(status: int, **headers: str) -> AnymailAPIError:
    return AnymailAPIError("ESP said no", status_code=status, response=Response(status, headers))


def test_a_429_or_an_smtp_rate_reply_is_a_throttle():
    assert send_rate.throttled(esp_error(429))
    assert not send_rate.throttled(esp_error(500))
    assert not send_rate.throttled(esp_error(422))
    ses = smtplib.SMTPDataError(454, b"Throttling failure: Maximum sending rate exceeded.")
    gmail = smtplib.SMTPSenderRefused(421, b"4.7.28 Our system has detected an unusual rate", "a@b")
    assert send_rate.throttled(ses) and send_rate.throttled(gmail)
    assert not send_rate.throttled(smtplib.SMTPDataError(451, b"4.3.0 Temporary local problem"))
    assert not send_rate.throttled(smtplib.SMTPDataError(550, b"5.7.1 Too many recipients? no: rejected"))
    assert not send_rate.throttled(OSError("connection refused"))


def test_retry_after_in_seconds_or_as_a_date():
    assert send_rate.retry_after(esp_error(429, **{"Retry-After": "7"})) == 7.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert send_rate.retry_after(esp_error(429, **{"Retry-After": in_a_minute})) == pytest.approx(60, abs=2)
    assert send_rate.retry_after(esp_error(429)) is None
    assert send_rate.retry_after(esp_error(429, **{"Retry-After": "soon"})) is None
    assert send_rate.retry_after(OSError("no response")) is None
