"""An SMTP backend that runs a hook at the one moment a message becomes the server's.

An SMTP server accepts a message only when it reads the "." that ends DATA; until then a lost
connection discards it. So the delivery journal is written right before that dot
(newsletter.sending.handover): a worker killed while the body streams leaves the digest "claimed" and
it is resent once, and only a kill in the instant after the dot leaves it in doubt. Likewise a
connection lost (or a server gone silent) after the dot: the server may have queued the message
without its reply reaching us, so that raises ReplyLost, and the digest is in doubt, never resent
blindly (newsletter.sending.delivery). A server that closed the connection while the body streamed
(a restart) never read the dot: that is seen before the dot is sent, and the digest is retried.
"""

import email
import email.policy
import select
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.core.mail.backends import smtp

Hook = Callable[[], None]


class ReplyLost(smtplib.SMTPException):
    """The whole message and its final dot went out, but the server's reply never came back:
    it may have accepted the message."""


class DotHookMixin:
    """smtplib's data() split in two: the body, then `before_dot()`, then the dot. And 8-bit
    bodies sent as RFC 6152 asks: declared with BODY=8BITMIME where the server offers it, made
    7-bit (quoted-printable) where it does not."""

    before_dot: Hook | None = None

    def sendmail(
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: bytes | str,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> dict:
        if isinstance(msg, bytes) and not msg.isascii():
            self.ehlo_or_helo_if_needed()
            if self.has_extn("8bitmime"):
                mail_options = [*mail_options, "BODY=8BITMIME"]
            else:
                msg = seven_bit(msg)
        return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        if self.before_dot is None:
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = smtplib._fix_eols(msg).encode("ascii")
        body = smtplib._quote_periods(msg)
        if body[-2:] != smtplib.bCRLF:
            body += smtplib.bCRLF
        self.send(body)
        if self._closed_by_server():
            # Written into a closed connection (the kernel buffers it): the server never read it.
            self.close()
            raise smtplib.SMTPServerDisconnected(
                "the mail server closed the connection before the message ended"
            )
        try:
            self.before_dot()
        except BaseException:
            # Inside DATA every line is message text (even "RSET"), so the only way to withdraw
            # the message is to drop the connection before the dot: the server discards it.
            self.close()
            raise
        self.send(b"." + smtplib.bCRLF)  # failing, it raises SMTPServerDisconnected: not sent
        try:
            return self.getreply()
        except OSError as exc:  # smtplib's SMTPServerDisconnected too; a timeout is one
            self.close()
            raise ReplyLost(f"no reply from the mail server after the message: {exc}") from exc

    def _closed_by_server(self) -> bool:
        """Has the server closed the connection (an end of stream waiting to be read)? Not
        knowable through TLS without reading: there it is False, and a close shows as the dot
        failing to go out, or as ReplyLost."""
        if isinstance(self.sock, ssl.SSLSocket):
            return False
        try:
            # select first: a socket with a timeout waits in recv() whatever the flags say.
            if not select.select([self.sock], [], [], 0)[0]:
                return False  # nothing to read: still open
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:  # reset by the server
            return True


def seven_bit(message: bytes) -> bytes:
    """The message with every 8-bit part re-encoded quoted-printable, for a server without
    8BITMIME (rare today: only then is the message parsed and written again)."""
    parsed = email.message_from_bytes(message, policy=email.policy.SMTP)
    for part in parsed.walk():
        if not part.is_multipart() and part.get("Content-Transfer-Encoding", "").lower() == "8bit":
            text = part.get_content()
            part.set_content(text, subtype=part.get_content_subtype(), cte="quoted-printable")
    return parsed.as_bytes()


class SMTP(DotHookMixin, smtplib.SMTP):
    pass


class SMTP_SSL(DotHookMixin, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """Django's SMTP backend (EMAIL_URL smtp://...) with `before_dot` for the next messages."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return SMTP_SSL if self.use_ssl else SMTP

    @contextmanager
    def before_dot(self, hook: Hook) -> Iterator[None]:
        """Run `hook` right before the dot of each message sent inside the block. If it raises,
        that message is withdrawn (never accepted) and the exception propagates."""
        self._hook = hook
        try:
            yield
        finally:
            self._hook = None

    _hook: Hook | None = None

    def _send(self, email_message) -> bool:
        self.connection.before_dot = self._hook
        try:
            return super()._send(email_message)
        except BaseException:
            if self.connection is not None and self.connection.sock is None:
                # Withdrawn by dropping the connection: the next message opens a new one.
                self.connection = None
            raise
