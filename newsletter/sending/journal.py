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


class Handing:
    """A "handing" write (with the deferred "sent" entries) sent to Redis and not yet
    acknowledged: the send path builds the digest meanwhile, and confirm() waits for the
    acknowledgement before the mail server may have it. The round trip, a third of a worker's
    time when waited for on its own, overlaps the rendering. close() gives up an unconfirmed
    write (the digest is not sent): its connection is dropped, the deferred entries kept."""

    def __init__(self, client: redis.Redis | None, delivery_id: int) -> None:
        self._deferred = _take_deferred()
        entries = {**self._deferred, delivery_id: {"phase": HANDING}}
        self._conn = None
        if client is None:  # the cache API cannot split a write: done now
            self._write_now(entries)
            return
        self._pool = client.connection_pool
        self._replies = len(entries)
        ttl = settings.DIGEST_JOURNAL_TTL
        commands = [("SET", _key(i), json.dumps(e), "EX", ttl) for i, e in entries.items()]
        try:
            self._conn = self._pool.get_connection()  # connects: may fail
            self._conn.send_packed_command(self._conn.pack_commands(commands))
        except Exception:
            self.close()
            _deferred.update(self._deferred)  # close() kept them only with a connection
            raise

    def _write_now(self, entries: dict[int, dict]) -> None:
        try:
            _write(entries)
        except Exception:
            _deferred.update(self._deferred)
            raise

    def confirm(self) -> None:
        """Wait for Redis to acknowledge every entry; raise (and keep the deferred) if not."""
        conn = self._conn
        if conn is None:
            return
        try:
            for _ in range(self._replies):
                conn.read_response()  # raises on an error reply or a lost connection
        except Exception:
            self.close()
            raise
        self._conn = None
        self._pool.release(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.disconnect()  # replies may be unread: never hand this connection out again
        self._pool.release(conn)
        _deferred.update(self._deferred)


def begin_handing(delivery_id: int) -> Handing:
    """record_handing in two halves around the digest's rendering (see Handing)."""
    return Handing(_redis(), delivery_id)


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
