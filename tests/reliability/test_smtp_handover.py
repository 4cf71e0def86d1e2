"""Over SMTP the journal says "handing" only right before the dot that commits the message, so
a worker dying while the body streams leaves it "claimed" (resent once), never in doubt."""

import pytest
from django.core.mail import EmailMessage, get_connection

from newsletter.sending import journal
from newsletter.sending.handover import JournalUnavailable, hand_over


def a_digest(to: str, connection) -> EmailMessage:
    body = "Papers.\n.\nA line that is only a dot."
    return EmailMessage("Your digest", body, to=[to], connection=connection)


@pytest.fixture
def backend(smtp_server, settings):
    settings.EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
    connection = get_connection()
    connection.open()
    yield connection
    connection.close()


def test_handing_is_recorded_after_the_body_and_right_before_the_dot(backend, smtp_server, monkeypatch):
    wire: list[bytes | str] = []
    send, record = backend.connection.send, journal.record_handing
    monkeypatch.setattr(backend.connection, "send", lambda data: (wire.append(data), send(data)))
    monkeypatch.setattr(journal, "record_handing", lambda i: (wire.append("journal"), record(i)))
    journal.record_claimed([41])
    hand_over(a_digest("alice@example.test", backend), 41)
    body_at = next(i for i, data in enumerate(wire) if "only a dot." in str(data))
    assert wire[body_at + 1 :] == ["journal", b".\r\n"]
    assert journal.read([41]) == {41: {"phase": journal.HANDING}}
    [message] = smtp_server.to("alice@example.test")
    assert "A line that is only a dot." in message.get_content()


def test_a_journal_failure_withdraws_the_message_and_the_next_goes(backend, smtp_server, monkeypatch):
    def journal_down(delivery_id):
        raise ConnectionError("redis is down")

    with monkeypatch.context() as patched:
        patched.setattr(journal, "record_handing", journal_down)
        with pytest.raises(JournalUnavailable):
            hand_over(a_digest("alice@example.test", backend), 42)
    hand_over(a_digest("bob@example.test", backend), 43)
    assert [str(m["To"]) for m in smtp_server.messages] == ["bob@example.test"]


def test_other_backends_record_handing_before_sending(settings, mailoutbox, monkeypatch):
    seen = []
    monkeypatch.setattr(journal, "record_handing", lambda i: seen.append(len(mailoutbox)))
    hand_over(a_digest("carol@example.test", get_connection()), 44)
    assert seen == [0] and len(mailoutbox) == 1
