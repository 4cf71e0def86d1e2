"""What a real mail server's conversation can do to a send (issue 15).

A server that queued a digest but whose reply never reached us (lost on the way, or a server gone
silent): the digest is in doubt, as for a worker that died at that instant, so it is recorded
"unknown" and never resent blindly; the chunk goes on over a new connection. And an address no
server can take is never sent to a mangled mailbox."""

import smtplib
import socket
import ssl
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command

from newsletter.models import Delivery
from newsletter.sending import journal
from newsletter.sending.delivery import REPLY_LOST
from newsletter.sending.handover import hand_over
from newsletter.sending.outcomes import Outcome, classify_send_error
from newsletter.sending.smtp import ReplyLost
from tests.newsletter.personas import DAY, a_day_of_papers, alice, bob, diffusion, paper, reader, video

pytestmark = pytest.mark.django_db


def send(capsys) -> str:
    call_command("send_digests", "--date", DAY.isoformat(), "--now")
    return capsys.readouterr().out.strip()


def test_a_lost_reply_leaves_that_digest_in_doubt_and_the_others_go(smtp_server, losing_proxy, capsys):
    a_day_of_papers()
    alice(), bob(), reader("dan@example.test", [video(), diffusion()])
    losing_proxy("close", {2})
    out = send(capsys)
    assert "due 3, queued 3, sent 2" in out and out.endswith("unknown 1")
    # The server has all three: the one whose reply was lost went out too.
    assert len(smtp_server.messages) == 3
    [doubt] = Delivery.objects.filter(status=Delivery.Status.UNKNOWN)
    assert doubt.error.startswith(REPLY_LOST) and doubt.items
    # Run again by hand: nothing is sent twice.
    assert "queued 0, sent 0" in send(capsys)
    assert len(smtp_server.messages) == 3
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3


def test_a_server_silent_after_the_dot_is_left_after_email_timeout(
    smtp_server, losing_proxy, settings, capsys
):
    a_day_of_papers()
    alice(), bob()
    settings.EMAIL_TIMEOUT = 1
    losing_proxy("silence", {1})
    started = time.monotonic()
    out = send(capsys)
    assert time.monotonic() - started < 10  # not the minutes a socket without a timeout waits
    assert "sent 1" in out and out.endswith("unknown 1")
    assert len(smtp_server.messages) == 2
    assert Delivery.objects.filter(status=Delivery.Status.UNKNOWN).count() == 1


def test_a_digest_keeps_its_message_id_from_one_attempt_to_the_next(smtp_server, settings):
    from newsletter.sending.context import digest_message_id

    a = alice()
    delivery = Delivery(pk=7, subscriber=a)
    first, again = (
        digest_message_id(delivery, "paperboy.example"),
        digest_message_id(delivery, "paperboy.example"),
    )
    assert first == again and first.startswith("<digest.7.") and first.endswith("@paperboy.example>")
    assert digest_message_id(Delivery(pk=8, subscriber=a), "paperboy.example") != first


def test_a_row_with_a_non_ascii_mailbox_fails_with_the_reason_and_nothing_is_sent(smtp_server, capsys):
    from subscribers.addresses import NON_ASCII_MAILBOX

    a_day_of_papers()
    alice()
    reader("jörg@example.test", [video()])  # stored before sign-up refused such addresses
    out = send(capsys)
    assert "sent 1, skipped 0, failed 1" in out
    assert [str(m["To"]) for m in smtp_server.messages] == ["alice@example.test"]
    failed = Delivery.objects.get(status=Delivery.Status.FAILED)
    assert failed.error == f"not sent: {NON_ASCII_MAILBOX}"


UMLAUT_TITLE = "Diffusion models für Wetter: Ångström-scale forecasts"


@pytest.mark.parametrize("offers_8bitmime", [True, False])
def test_8bit_bodies_are_declared_where_offered_and_quoted_printable_where_not(
    paperboy_smtp, capsys, offers_8bitmime
):
    a_day_of_papers()
    paper("2603.09999", UMLAUT_TITLE, 300)
    alice()
    paperboy_smtp.offers_8bitmime = offers_8bitmime
    assert "sent 1" in send(capsys)
    [raw], [options], [message] = paperboy_smtp.raw, paperboy_smtp.mail_options, paperboy_smtp.messages
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert all(UMLAUT_TITLE in p.get_content() for p in parts)
    if offers_8bitmime:
        assert not raw.isascii() and "BODY=8BITMIME" in options
    else:
        assert raw.isascii() and "BODY=8BITMIME" not in options
        assert {p["Content-Transfer-Encoding"] for p in parts} == {"quoted-printable"}
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


@pytest.fixture
def private_ca_relay(settings, tmp_path):
    """A STARTTLS relay whose certificate an internal CA signed (not one the system trusts)."""
    import trustme
    from aiosmtpd.controller import Controller

    from tests.smtp import Inbox, free_port

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context)
    controller.start()
    settings.EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL, settings.EMAIL_TIMEOUT = True, False, 10
    bundle = tmp_path / "internal-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    yield inbox, bundle
    controller.stop()


def test_a_relay_signed_by_a_private_ca_is_refused_until_ssl_cert_file_names_it(
    private_ca_relay, monkeypatch
):
    """The README's note: verification stays on; SSL_CERT_FILE makes the internal CA trusted."""
    inbox, bundle = private_ca_relay
    with pytest.raises(ssl.SSLCertVerificationError, match="CERTIFICATE_VERIFY_FAILED"):
        mail.send_mail("Hello", "Body", None, ["alice@example.test"])
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    mail.send_mail("Hello", "Body", None, ["alice@example.test"])
    assert [str(m["To"]) for m in inbox.messages] == ["alice@example.test"]


class ClosesMidBody:
    """A raw SMTP server that accepts DATA, reads part of the body and closes the connection, as
    a server being restarted does: it never reads the dot, so it has no message."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        reader = conn.makefile("rb")
        conn.sendall(b"220 mx.test ESMTP\r\n")
        while line := reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 mx.test\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                reader.readline()  # a line of the body, then the "restart"
                break
            else:
                conn.sendall(b"250 OK\r\n")
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        self.listener.close()
        self.closed.set()


def test_a_server_closing_while_the_body_streams_is_retried_never_in_doubt(settings, monkeypatch):
    server = ClosesMidBody()
    settings.EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    body = "A digest line that goes on and on.\n" * 2000  # more than one read of the server
    with mail.get_connection() as connection:
        # The server's close must come before the client's dot, as in a restart mid-body (on a
        # busy machine the server thread could otherwise close only after the dot went out).
        send = connection.connection.send

        def body_then_wait(data) -> None:
            send(data)
            if isinstance(data, bytes) and b"on and on" in data:
                assert server.closed.wait(10)
                time.sleep(0.2)  # its reset reaches the client's socket

        monkeypatch.setattr(connection.connection, "send", body_then_wait)
        message = mail.EmailMessage("Digest", body, to=["alice@example.test"], connection=connection)
        journal.record_claimed([51])
        with pytest.raises(smtplib.SMTPException) as raised:
            hand_over(message, 51)
    assert not isinstance(raised.value, ReplyLost), raised.value
    assert classify_send_error(raised.value) == Outcome.RETRY
