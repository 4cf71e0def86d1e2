"""The delivery journal: "sent" entries ride along with the next write, and none is lost when
a write fails."""

import pytest

from newsletter.sending import journal


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
