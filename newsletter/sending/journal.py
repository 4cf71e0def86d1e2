"""A per-message journal of each chunk being sent, kept in the cache's store (Redis in production).

The ledger is written in bulk when a chunk ends, so the queries per chunk stay constant. If the
worker dies mid-chunk, its rows stay "sending"; once the task's time limit has passed, the
journal tells them apart (newsletter.sending.recovery):
- "claimed": never handed over (over SMTP: the body may have streamed, but not the dot that
  commits it), so pending again;
- "handing": being handed to the mail server at the crash, it may have gone out: unknown;
- "sent": went out, recorded as sent with the papers it held (written with the next digest's
  "handing", see defer_sent);
- no entry at all (the journal was lost): nothing is known, so unknown, never resent.
"""

import json
import threading

import redis
from django.conf import settings
from django.core.cache import cache

from config.cache import shared_redis

CLAIMED = "claimed"
HANDING = "handing"
SENT = "sent"


def _key(delivery_id: int) -> str:
    return f"paperboy:delivery:{delivery_id}"


def _redis() -> redis.Redis | None:
    """Two journal writes per digest through Django's cache API (a new client object and a
    MULTI / MSET / EXPIRE transaction each) took a fifth of the send path's time; a plain SET on
    the cache's Redis takes one round trip."""
    return shared_redis()


def _write(entries: dict[int, dict]) -> None:
    ttl = settings.DIGEST_JOURNAL_TTL
    client = _redis()
    if client is None:
        cache.set_many({_key(i): json.dumps(e) for i, e in entries.items()}, timeout=ttl)
        return
    if len(entries) == 1:
        [(delivery_id, entry)] = entries.items()
        client.set(_key(delivery_id), json.dumps(entry), ex=ttl)
        return
    with client.pipeline(transaction=False) as pipe:
        for delivery_id, entry in entries.items():
            pipe.set(_key(delivery_id), json.dumps(entry), ex=ttl)
        pipe.execute()


def record_claimed(delivery_ids: list[int]) -> None:
    _write({delivery_id: {"phase": CLAIMED} for delivery_id in delivery_ids})


def record_handing(delivery_id: int) -> None:
    """Just before the mail server can have the message (over SMTP: before the final dot).
    The "sent" entries deferred so far go in the same write."""
    deferred = _take_deferred()
    try:
        _write({**deferred, delivery_id: {"phase": HANDING}})
    except Exception:
        _deferred.update(deferred)  # kept for the next write or flush()
        raise


# The send path defers "sent" entries to ride along with the next digest's "handing" (or the
# flush at the chunk's end): one round trip per digest instead of two, which was a quarter of
# a worker's time. Until then the digest reads "handing": in doubt, never resent. So a crash
# leaves at most one digest "unknown" - the last one handed over - as before, never a duplicate.
_deferred: dict[int, dict] = {}
_deferred_lock = threading.Lock()  # in case of a threads pool


def _sent_entry(esp_message_id: str, items: list[dict]) -> dict:
    return {"phase": SENT, "esp": esp_message_id, "items": items}


def _take_deferred() -> dict[int, dict]:
    with _deferred_lock:
        taken = dict(_deferred)
        _deferred.clear()
    return taken


def defer_sent(delivery_id: int, esp_message_id: str, items: list[dict]) -> None:
    """Record "sent" with the next write (record_handing or flush)."""
    with _deferred_lock:
        _deferred[delivery_id] = _sent_entry(esp_message_id, items)


def flush() -> None:
    """Write the deferred "sent" entries (before the chunk's ledger write)."""
    deferred = _take_deferred()
    if not deferred:
        return
    try:
        _write(deferred)
    except Exception:
        _deferred.update(deferred)
        raise


def forget(delivery_ids: list[int]) -> None:
    """Drop these rows' entries (the benchmark removes its rows; the entries would linger)."""
    keys = [_key(i) for i in delivery_ids]
    client = _redis()
    for start in range(0, len(keys), 10_000):
        if client is None:
            cache.delete_many(keys[start : start + 10_000])
        else:
            client.delete(*keys[start : start + 10_000])


def read(delivery_ids: list[int]) -> dict[int, dict]:
    """The journal entries of these rows; a row the journal does not know is absent."""
    keys = [_key(i) for i in delivery_ids]
    client = _redis()
    if client is None:
        found = cache.get_many(keys)
    else:
        found = {
            key: value for key, value in zip(keys, client.mget(keys) if keys else [], strict=True) if value
        }
    return {int(key.rsplit(":", 1)[1]): json.loads(value) for key, value in found.items()}
