"""A real SMTP server (aiosmtpd) on 127.0.0.1 for any test, with Django's mail pointed at it.

`smtp_server.refuse[address] = "550 5.1.1 No such user"` makes it refuse a recipient the way
real servers do (451 for a temporary refusal), to test bounces and retries;
`smtp_server.offers_8bitmime = False` makes it a server without 8BITMIME (RFC 6152)."""

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, with the MAIL FROM options of each
        self.mail_options: list[list[str]] = []
        self.refuse: dict[str, str] = {}
        self.offers_8bitmime = True
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        return [r for r in responses if self.offers_8bitmime or r != "250-8BITMIME"]

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.raw.append(envelope.original_content or envelope.content)
            self.mail_options.append(list(envelope.mail_options))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def paperboy_smtp(smtp_server: Inbox, settings) -> Inbox:
    """The test server, with mail sent through the backend an smtp:// EMAIL_URL selects."""
    settings.EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
    return smtp_server
