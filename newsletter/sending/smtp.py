"""An SMTP backend that runs a hook at the one moment a message becomes the server's.

An SMTP server accepts a message only when it reads the "." that ends DATA; until then a lost
connection discards it. So the delivery journal is written right before that dot
(newsletter.sending.handover): a worker killed while the body streams leaves the digest "claimed" and
it is resent once, and only a kill in the instant after the dot leaves it in doubt.
"""

import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.mail.backends import smtp

Hook = Callable[[], None]


class DotHookMixin:
    """smtplib's data() split in two: the body, then `before_dot()`, then the dot."""

    before_dot: Hook | None = None

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
        try:
            self.before_dot()
        except BaseException:
            # Inside DATA every line is message text (even "RSET"), so the only way to withdraw
            # the message is to drop the connection before the dot: the server discards it.
            self.close()
            raise
        self.send(b"." + smtplib.bCRLF)
        return self.getreply()


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
