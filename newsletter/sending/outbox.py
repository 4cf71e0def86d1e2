"""The local outbox: with no SMTP server or ESP configured, mail is kept as .eml files.

A newcomer reads them at /dev/outbox/ (DEBUG only) and clicks the links in them.
"""

import email
import email.policy
import os
import re
import uuid
from dataclasses import dataclass
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

_NAME = re.compile(r"^[0-9T]{15,}-[0-9a-f]{8}\.eml$")


class OutboxEmailBackend(BaseEmailBackend):
    """Writes each message as one .eml file in settings.OUTBOX_DIR."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        folder = Path(settings.OUTBOX_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            tmp = folder / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes(linesep="\r\n"))
            # Rename last, so a reader never sees half a message.
            os.replace(tmp, folder / name)
            sent += 1
        return sent


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    message: ParsedMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def date(self) -> str:
        return str(self.message.get("Date", ""))

    def body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None


def list_outbox(limit: int = 200) -> list[OutboxEntry]:
    """The newest messages first."""
    folder = Path(settings.OUTBOX_DIR)
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if _NAME.match(p.name)), reverse=True)
    return [read_outbox(name) for name in names[:limit]]


def read_outbox(name: str) -> OutboxEntry:
    """Raise FileNotFoundError for a name that is not a message in the outbox."""
    if not _NAME.match(name):
        raise FileNotFoundError(name)
    raw = (Path(settings.OUTBOX_DIR) / name).read_bytes()
    return OutboxEntry(name, email.message_from_bytes(raw, policy=email.policy.default))
