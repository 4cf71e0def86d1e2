"""Over SMTP the journal says "handing" only right before the dot that commits the message, so
a worker dying while the body streams leaves it "claimed" (resent once), never in doubt."""

from datetime import UTC, datetime

import pytest
from django.core.mail import EmailMessage, get_connection

from newsletter.models import Delivery
from newsletter.sending import delivery, journal
from newsletter.sending.delivery import send_chunk
from newsletter.sending.handover import JournalUnavailable, hand_over
from newsletter.sending.tick import run_tick
from tests.newsletter.personas import a_day_of_papers, alice, released_edition

RELEASED = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


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


@pytest.mark.django_db
def test_other_backends_begin_handing_before_rendering_and_send_once_it_is_acknowledged(
    settings, mailoutbox, monkeypatch
):
    """The journal's round trip overlaps the rendering; the message goes only after Redis said yes."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alice()
    a_day_of_papers()
    chunks: list[list[int]] = []
    run_tick(released_edition(at=RELEASED).released_at, chunks.append, None, ignore_time=True)
    events: list[str] = []
    begin, build = journal.begin_handing, delivery.build_digest

    def begin_handing(delivery_id):
        handing = begin(delivery_id)
        confirm = handing.confirm
        handing.confirm = lambda: (events.append(f"confirm, {len(mailoutbox)} sent"), confirm())
        events.append("begin")
        return handing

    monkeypatch.setattr(journal, "begin_handing", begin_handing)
    monkeypatch.setattr(
        delivery, "build_digest", lambda *a, **k: (events.append("render"), build(*a, **k))[1]
    )
    assert send_chunk(chunks[0]).sent == 1
    assert events == ["begin", "render", "confirm, 0 sent"] and len(mailoutbox) == 1
    assert journal.read(chunks[0])[chunks[0][0]]["phase"] == journal.SENT


@pytest.mark.django_db
def test_other_backends_send_nothing_when_the_journal_is_down(settings, mailoutbox, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alice()
    a_day_of_papers()
    chunks: list[list[int]] = []
    run_tick(released_edition(at=RELEASED).released_at, chunks.append, None, ignore_time=True)

    def journal_down(delivery_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(journal, "begin_handing", journal_down)
    assert send_chunk(chunks[0]).retry == chunks[0]
    assert mailoutbox == [] and Delivery.objects.get().status == Delivery.Status.PENDING
