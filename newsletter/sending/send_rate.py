"""How fast digests go out: DIGEST_SEND_RATE messages a second across every worker.

Real ESPs cap the rate (a new SES account: 14/s; Mailgun and SendGrid throttle per domain and
answer 429), so blasting and retrying on 429 wastes the quota and the sender's reputation.

The limit is a token bucket kept in Redis as one timestamp (the generic cell rate algorithm,
GCRA): one small Lua script reserves the next free slot atomically, so 1 or 8 workers together
never send more than DIGEST_SEND_BURST at once and DIGEST_SEND_RATE a second after that. Each
worker sleeps until its slot: no polling, and the rate holds across machines too. (The `limits`
library has Redis windows, but neither a burst nor a shared slow-down; this is its one script.)

When the ESP throttles anyway (a 429, or an SMTP "rate"/"too many" reply), `slow_down` holds
every worker until Retry-After (else DIGEST_THROTTLE_PAUSE) and halves the rate for
DIGEST_THROTTLE_COOLDOWN seconds; each further throttle within it halves it again, down to a
sixteenth. Without DIGEST_SEND_RATE there is no bucket, but a throttle still holds every worker.

Without Redis (the one-machine defaults, filesystem broker) the same algorithm runs in the
process, so the rate holds per worker process, not across them (README).
"""

import email.utils
import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from anymail.exceptions import AnymailAPIError
from django.conf import settings

from config.cache import shared_redis

KEY = "paperboy:send-rate"
# A throttle halves the rate, then halves it again: at most down to this fraction.
MAX_SLOWDOWN = 16
# Words of an SMTP reply that says "slow down" rather than "this message is bad" (SES: "454
# Throttling failure: Maximum sending rate exceeded"; Gmail: "421 4.7.28 ... rate limited").
SMTP_THROTTLE_WORDS = ("rate", "throttl", "too many")
# With no rate set, how often a worker asks Redis whether a throttle holds every worker.
HOLD_CHECK = 1.0

# KEYS: the bucket (next slot, µs), the slow-down factor, the hold. ARGV: interval µs (0: no
# rate), burst, the longest wait worth reserving (µs). Returns the wait in µs, or -1: no slot
# that soon, nothing reserved. Redis's clock, so every worker and machine agrees on "now".
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = redis.call('PTTL', KEYS[3])
local start = now
if hold > 0 then start = now + hold * 1000 end
local interval = tonumber(ARGV[1]) * tonumber(redis.call('GET', KEYS[2]) or '1')
if interval == 0 then
  if start - now > tonumber(ARGV[3]) then return -1 end
  return start - now
end
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
if hold > 0 then slot = math.max(slot, start + tolerance) end
local wait = math.max(slot - tolerance - now, 0)
if wait > tonumber(ARGV[3]) then return -1 end
local next_slot = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_slot), 'PX', math.ceil((next_slot - now) / 1000) + 1000)
return wait
"""

# KEYS: the slow-down factor, the hold. ARGV: hold ms, cooldown s, max slow-down.
SLOW_DOWN = """
local factor = math.min(tonumber(redis.call('GET', KEYS[1]) or '1') * 2, tonumber(ARGV[3]))
redis.call('SET', KEYS[1], factor, 'EX', ARGV[2])
if tonumber(ARGV[1]) > redis.call('PTTL', KEYS[2]) then redis.call('SET', KEYS[2], 1, 'PX', ARGV[1]) end
return factor
"""


@dataclass
class _Local:
    """The bucket in the process, for installs without Redis."""

    next_slot: float = 0.0
    factor: float = 1.0
    slow_until: float = 0.0
    hold_until: float = 0.0
    hold_checked_at: float = float("-inf")


_local = _Local()
_lock = threading.Lock()
_scripts: dict[int, tuple] = {}


def _keys() -> list[str]:
    return [f"{KEY}:bucket", f"{KEY}:slow", f"{KEY}:hold"]


def _interval() -> float:
    """Seconds between messages at the configured rate, 0 when there is no rate."""
    rate = settings.DIGEST_SEND_RATE
    return 1.0 / rate if rate else 0.0


def paced() -> bool:
    """Is a rate set (DIGEST_SEND_RATE)? Then each message waits for a slot of the bucket."""
    return bool(settings.DIGEST_SEND_RATE)


def reserve(max_wait: float) -> float | None:
    """Reserve this worker's next send: the seconds to wait for it (0: at once), or None when
    no slot comes within `max_wait` seconds (nothing is reserved then)."""
    interval, burst = _interval(), max(1, settings.DIGEST_SEND_BURST)
    client = shared_redis()
    if client is None:
        return _reserve_locally(interval, burst, max_wait)
    if not interval:
        return _held_for(client, max_wait)
    script = _script(client, RESERVE)
    waited = script(keys=_keys(), args=[round(interval * 1e6), burst, round(max_wait * 1e6)])
    return None if waited < 0 else waited / 1e6


def _held_for(client, max_wait: float) -> float | None:
    """No rate: wait only while a throttle holds every worker. Redis is asked at most once a
    HOLD_CHECK, so an unlimited send costs no round trip per message."""
    now = time.monotonic()
    with _lock:
        if now - _local.hold_checked_at >= HOLD_CHECK:
            _local.hold_checked_at = now
            left = client.pttl(_keys()[2])
            _local.hold_until = max(_local.hold_until, now + left / 1000 if left > 0 else 0.0)
        wait = max(_local.hold_until - now, 0.0)
    return wait if wait <= max_wait else None


def _reserve_locally(interval: float, burst: int, max_wait: float) -> float | None:
    with _lock:
        now = time.monotonic()
        start = max(now, _local.hold_until)
        if now >= _local.slow_until:
            _local.factor = 1.0
        interval *= _local.factor
        if not interval:
            return start - now if start - now <= max_wait else None
        tolerance = interval * (burst - 1)
        slot = max(_local.next_slot, now)
        if start > now:
            slot = max(slot, start + tolerance)
        wait = max(slot - tolerance - now, 0.0)
        if wait > max_wait:
            return None
        _local.next_slot = slot + interval
        return wait


def slow_down(retry_after: float | None) -> None:
    """The ESP throttled us: hold every worker for `retry_after` seconds (else
    DIGEST_THROTTLE_PAUSE) and halve the rate for DIGEST_THROTTLE_COOLDOWN seconds."""
    hold = retry_after if retry_after is not None else settings.DIGEST_THROTTLE_PAUSE
    hold = min(max(hold, 0.0), settings.DIGEST_THROTTLE_MAX_PAUSE)
    cooldown = settings.DIGEST_THROTTLE_COOLDOWN
    client = shared_redis()
    if client is None:
        with _lock:
            now = time.monotonic()
            _local.factor = min(_local.factor * 2 if now < _local.slow_until else 2.0, MAX_SLOWDOWN)
            _local.slow_until = now + cooldown
            _local.hold_until = max(_local.hold_until, now + hold)
        return
    with _lock:
        _local.hold_until = max(_local.hold_until, time.monotonic() + hold)
    script = _script(client, SLOW_DOWN)
    script(keys=_keys()[1:], args=[max(1, round(hold * 1000)), max(1, round(cooldown)), MAX_SLOWDOWN])


def _script(client, source: str):
    key = (id(client), source)
    if key not in _scripts:
        _scripts[key] = client.register_script(source)
    return _scripts[key]


def reset() -> None:
    """Forget the bucket, the slow-down and the hold (tests; an operator after changing the rate)."""
    global _local
    with _lock:
        _local = _Local()
    client = shared_redis()
    if client is not None:
        client.delete(*_keys())


def throttled(exc: Exception) -> bool:
    """Did the ESP or mail server ask us to slow down?"""
    if isinstance(exc, AnymailAPIError):
        return getattr(exc, "status_code", None) == 429
    if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
        reply = exc.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return any(word in text.lower() for word in SMTP_THROTTLE_WORDS)
    return False


def retry_after(exc: Exception) -> float | None:
    """Seconds from the ESP's Retry-After header (seconds or an HTTP date), if it sent one."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
