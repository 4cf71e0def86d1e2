"""A digest's MIME bytes, written directly.

Python's email package took a third of the send path's time per digest: a header object and a
folding pass per header, and a scan of the whole body for each random boundary. A digest is
always the same shape - multipart/alternative, a UTF-8 text part and a UTF-8 HTML part, a dozen
ASCII headers - so its bytes are written here in that shape: the same bytes, header for header
and line for line, as Django's EmailMultiAlternatives.message().as_bytes() would give (tests/
newsletter/test_mime.py compares them). Anything outside that shape (a non-ASCII address, a line
over 998 bytes that would need quoted-printable, an attachment) goes through Django's own
message() instead.
"""

import re
import secrets
import sys
from email import policy as email_policy
from email.utils import formatdate
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, forbid_multi_line_headers

MAX_HEADER_LINE = 78  # RFC 5322's recommended length, as the email package folds to
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # as email.generator makes boundaries
# Extra headers Django treats specially; an email with one of them takes Django's way.
_SPECIAL = {"from", "to", "cc", "reply-to", "date", "subject", "content-type", "mime-version",
            "content-transfer-encoding"}  # fmt: skip
_FOLD_POINT = re.compile(r"[;, \t]")  # where the email package's Header folds
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the email package's line ends


class DigestEmail(EmailMultiAlternatives):
    """An EmailMultiAlternatives whose message() writes its bytes directly when it can."""

    def message(self):
        return DigestMIME(self) if is_plain(self) else super().message()

    def django_message(self):
        return super().message()


def is_plain(email: EmailMultiAlternatives) -> bool:
    """Is it the shape this module writes: a text body, one HTML alternative, ASCII addresses
    and header values, its own Message-ID, UTF-8, no line too long for 8bit?"""
    if (
        email.attachments
        or email.cc
        or email.reply_to
        or (email.encoding or settings.DEFAULT_CHARSET) != "utf-8"
    ):
        return False
    if len(email.alternatives) != 1 or email.alternatives[0][1] != "text/html" or not email.body:
        return False
    if "message-id" not in {name.lower() for name in email.extra_headers}:
        return False
    if any(name.lower() in _SPECIAL for name in email.extra_headers):
        return False
    values = [email.from_email, *email.to, *map(str, email.extra_headers.values())]
    if not all(value.isascii() for value in values):
        return False
    return all(fits_8bit(text) for text in (email.body, email.alternatives[0][0]))


def fits_8bit(text: str) -> bool:
    """Django switches a part to quoted-printable when a line (as str.splitlines() splits)
    is longer than RFC 5322's limit in bytes. Splitting the UTF-8 bytes at "\n" alone gives
    lines no shorter than those, so when they all fit, so do Django's: one pass in C, where
    splitting and encoding line by line was 3% of a worker's time."""
    limit = RFC5322_EMAIL_LINE_LENGTH_LIMIT
    if max(map(len, text.encode(errors="surrogateescape").split(b"\n"))) <= limit:
        return True
    return all(len(line.encode(errors="surrogateescape")) <= limit for line in text.splitlines())


@lru_cache(maxsize=4)
def _folding(linesep: str):
    return email_policy.compat32.clone(linesep=linesep)


@lru_cache(maxsize=1024)
def subject_header(subject: str) -> str:
    """The Subject as Django sets it (RFC 2047 encoded words). Cached: readers of an edition
    share a few dozen subjects, and encoding one is slow."""
    return forbid_multi_line_headers("Subject", subject, "utf-8")[1]


def header_line(name: str, value: str, linesep: str) -> bytes:
    """One header as the email package writes it: long ones folded by its own algorithm, which
    moves a value it cannot fold (a long URL) to a continuation line of its own."""
    if len(name) + 2 + len(value) <= MAX_HEADER_LINE:
        return f"{name}: {value}{linesep}".encode("ascii")
    if not _FOLD_POINT.search(value):
        return f"{name}: {linesep} {value}{linesep}".encode("ascii")
    return folded(name, value, linesep)


@lru_cache(maxsize=1024)
def folded(name: str, value: str, linesep: str) -> bytes:
    """The email package's folding of a long header with spaces: in practice the Subject, which
    readers of an edition share (folding it was 3% of a worker's time)."""
    return _folding(linesep).fold_binary(name, value)


def new_boundary(*bodies: str) -> str:
    """A boundary in the email package's format, not found in the bodies."""
    while True:
        boundary = "=" * 15 + f"{secrets.randbelow(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="
        if not any(f"--{boundary}" in body for body in bodies):
            return boundary


def content_type_line(boundary: str, linesep: str) -> bytes:
    """The multipart Content-Type as the email package folds it (the boundary's width is fixed).
    Written directly: the random boundary made every value new, so each was a miss of folded()'s
    cache (10 microseconds of folding) that also pushed the edition's subjects out of it."""
    return f'Content-Type: multipart/alternative;{linesep} boundary="{boundary}"{linesep}'.encode("ascii")


def part(text: str, subtype: str, linesep: str) -> bytes:
    cte = "7bit" if text.isascii() else "8bit"
    head = f'Content-Type: text/{subtype}; charset="utf-8"{linesep}MIME-Version: 1.0{linesep}'
    head += f"Content-Transfer-Encoding: {cte}{linesep}{linesep}"
    # The email package ends every line (\r\n, \r or \n) with linesep.
    body = text.replace("\n", linesep) if "\r" not in text else linesep.join(_NEWLINE.split(text))
    return head.encode("ascii") + body.encode()


class DigestMIME:
    """What a mail backend uses of EmailMessage.message(): as_bytes() and as_string(). Other
    attributes come from Django's MIME object of the same email, built on first use."""

    def __init__(self, email: DigestEmail) -> None:
        self.email = email
        self.date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        self._django = None

    def __getattr__(self, name: str):
        if self._django is None:
            self._django = self.email.django_message()
        return getattr(self._django, name)

    def __getitem__(self, name: str):
        return self.__getattr__("__getitem__")(name)

    def headers(self) -> list[tuple[str, str]]:
        """The headers after Content-Type, in the email package's order."""
        email = self.email
        own = [("From", email.from_email), ("To", ", ".join(map(str, email.to)))]
        headers = [
            ("MIME-Version", "1.0"),
            ("Subject", subject_header(email.subject)),
            *[forbid_multi_line_headers(name, value, "utf-8") for name, value in own],
            ("Date", self.date),
        ]
        # As Django sets them: refusing line breaks, encoding the subject.
        return headers + [forbid_multi_line_headers(n, v, "utf-8") for n, v in email.extra_headers.items()]

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if unixfrom:
            return self.email.django_message().as_bytes(unixfrom=unixfrom, linesep=linesep)
        text, html = self.email.body, self.email.alternatives[0][0]
        boundary = new_boundary(text, html)
        out = [content_type_line(boundary, linesep)]
        out += [header_line(name, value, linesep) for name, value in self.headers()]
        out.append(f"{linesep}--{boundary}{linesep}".encode())
        out.append(part(text, "plain", linesep))
        out.append(f"{linesep}--{boundary}{linesep}".encode())
        out.append(part(html, "html", linesep))
        out.append(f"{linesep}--{boundary}--{linesep}".encode())
        return b"".join(out)

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(unixfrom, linesep).decode()
