"""The delivery journal: "sent" entries ride along with the next write, and none is lost when
a write fails."""

import socket

import pytest
import redis

from config.cache import shared_redis
from newsletter.sending import journal
from tests.services import require_redis


def test_a_deferred_sent_entry_is_written_with_the_next_handing_or_the_flush():
    journal.record_claimed([1, 2, 3])
    journal.record_handing(1)
    journal.defer_sent(1, "<m1@x>", [{"paper": 7, "reasons": ["r"]}])
    assert journal.read([1])[1]["phase"] == journal.HANDING  # in doubt until written: never resent
    journal.record_handing(2)
    assert journal.read([1, 2, 3]) == {
        1: {"phase": journal.SENT, "esp": "<m1@x>", "items": [{"paper": 7, "reasons": ["r"]}]},
        2: {"phase": journal.HANDING},
        3: {"phase": journal.CLAIMED},
    }
    journal.defer_sent(2, "<m2@x>", [])
    journal.flush()
    assert journal.read([2])[2]["phase"] == journal.SENT
    journal.flush()  # nothing deferred: nothing to write


def test_a_failed_write_keeps_the_deferred_entries_for_the_next_one(monkeypatch):
    journal.defer_sent(5, "<m5@x>", [])
    write = journal._write

    def down(entries):
        raise ConnectionError("journal down")

    monkeypatch.setattr(journal, "_write", down)
    with pytest.raises(ConnectionError):
        journal.record_handing(6)
    with pytest.raises(ConnectionError):
        journal.flush()
    monkeypatch.setattr(journal, "_write", write)
    journal.flush()
    assert journal.read([5, 6]) == {5: {"phase": journal.SENT, "esp": "<m5@x>", "items": []}}


def test_forgotten_entries_are_gone():
    journal.record_claimed([7, 8])
    journal.forget([7])
    assert journal.read([7, 8]) == {8: {"phase": journal.CLAIMED}}


def test_a_handing_begun_before_the_rendering_is_written_once_confirmed():
    journal.defer_sent(20, "<m20@x>", [])
    handing = journal.begin_handing(21)
    handing.confirm()
    handing.close()  # after a confirm: nothing more to do
    assert journal.read([20, 21]) == {
        20: {"phase": journal.SENT, "esp": "<m20@x>", "items": []},
        21: {"phase": journal.HANDING},
    }


def test_a_handing_given_up_keeps_the_deferred_entries_for_the_next_write():
    journal.defer_sent(30, "<m30@x>", [])
    journal.begin_handing(31).close()  # the digest was never sent (its rendering failed)
    journal.flush()
    assert journal.read([30])[30]["phase"] == journal.SENT


def test_a_handing_whose_connection_is_lost_raises_and_keeps_the_deferred_entries():
    require_redis()
    journal.defer_sent(40, "<m40@x>", [])
    admin = shared_redis()
    admin.client_pause(5000, all=False)  # writes wait: no reply can come before the drop
    try:
        handing = journal.begin_handing(41)
        handing._conn._sock.shutdown(socket.SHUT_RDWR)  # the connection dropped before the reply
        with pytest.raises(redis.ConnectionError):
            handing.confirm()
    finally:
        admin.client_unpause()
    journal.flush()
    assert journal.read([40])[40]["phase"] == journal.SENT
    journal.record_handing(42)  # the pool still works: the broken connection was dropped
    assert journal.read([42])[42]["phase"] == journal.HANDING


def test_a_handing_that_cannot_connect_keeps_the_deferred_entries():
    require_redis()
    journal.defer_sent(50, "<m50@x>", [])
    pool = shared_redis().connection_pool

    def refused(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    original = pool.get_connection
    pool.get_connection = refused
    try:
        with pytest.raises(redis.ConnectionError):
            journal.begin_handing(51)
    finally:
        pool.get_connection = original
    journal.flush()
    assert journal.read([50, 51]) == {50: {"phase": journal.SENT, "esp": "<m50@x>", "items": []}}
