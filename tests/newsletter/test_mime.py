"""A digest's MIME bytes written directly (newsletter.sending.mime) are the bytes Django's own
EmailMultiAlternatives.message().as_bytes() gives, header for header and line for line."""

import re

import pytest
from django.core.mail import EmailMultiAlternatives

from newsletter.sending.mime import DigestEmail, DigestMIME, fits_8bit, is_plain

SUBJECTS = [
    "3 papers today: Video diffusion at scale",
    "1 paper today: Ünïcödé — “quotes” and emoji 🚀 in a title that runs well past the fold limit",
    "12 papers this week: " + "a-very-long-unbreakable-token" * 4,
]
TEXT = "Hello\n\nLine two — with UTF-8\r\nWindows line\rold Mac line\n" + "word " * 150 + "\n"
HTML = '<!doctype html><p class="x">Olá &amp; <a href="https://e.test/a?b=1">link</a></p>\n' * 20
HEADERS = {
    "List-Unsubscribe": "<https://paperboy.example.test/u/one-click/" + "t" * 120 + "/>, <mailto:u@e.test>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-Id": "Paperboy digest <digest.paperboy.example.test>",
    "Message-ID": "<digest.42.123@paperboy.example.test>",
    "X-Paperboy-Delivery": "42",
}


def digest(
    subject: str, text: str = TEXT, html: str = HTML, cls=DigestEmail, **headers
) -> EmailMultiAlternatives:
    message = DigestEmail(
        subject=subject,
        body=text,
        from_email="Paperboy <digest@paperboy.example.test>",
        to=["o'brien+news@example.test"],
        headers={**HEADERS, **headers},
    )
    message.attach_alternative(html, "text/html")
    return message


def djangos_bytes(message: DigestEmail, mime: DigestMIME, linesep: str) -> tuple[bytes, str]:
    """Django's bytes for the same email, with this message's boundary and date."""
    expected = message.django_message()
    expected.replace_header("Date", mime.date)
    raw = expected.as_bytes(linesep=linesep)
    boundary = expected.get_boundary()
    return raw, boundary


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("unsubscribe", [HEADERS["List-Unsubscribe"], "<https://e.test/" + "t" * 150 + ">"])
def test_the_bytes_are_djangos_bytes(subject, linesep, unsubscribe):
    message = digest(subject, **{"List-Unsubscribe": unsubscribe})
    mime = message.message()
    assert isinstance(mime, DigestMIME)
    expected, boundary = djangos_bytes(message, mime, linesep)
    got = mime.as_bytes(linesep=linesep)
    ours = re.search(rb'boundary="(=+\d+==)"', got).group(1).decode()
    assert got == expected.replace(boundary.encode(), ours.encode())
    assert all(len(line) <= 998 for line in got.split(linesep.encode()))


def test_ascii_parts_are_7bit_and_the_boundary_is_new_per_message():
    message = digest("Plain", text="ascii only\n", html="<p>ascii</p>\n")
    first, second = message.message().as_bytes(), message.message().as_bytes()
    assert first.count(b"Content-Transfer-Encoding: 7bit") == 2
    assert re.search(rb'boundary="(.+?)"', first).group(1) != re.search(rb'boundary="(.+?)"', second).group(1)


@pytest.mark.parametrize(
    "change",
    [
        {"to": ["jörg@example.test"]},
        {"html": "<p>" + "x" * 1200 + "</p>"},  # would need quoted-printable
        {"headers": {"Message-ID": None}},
        {"headers": {"Date": "Mon, 1 Jan 2024 00:00:00 +0000"}},
        {"headers": {"X-Note": "naïve"}},
    ],
)
def test_anything_else_takes_djangos_way(change):
    message = digest("Subject", html=change.get("html", HTML))
    if "to" in change:
        message.to = change["to"]
    for name, value in change.get("headers", {}).items():
        message.extra_headers.pop(name) if value is None else message.extra_headers.__setitem__(name, value)
    assert not is_plain(message)
    assert not isinstance(message.message(), DigestMIME)


def test_a_line_break_in_a_header_is_refused_as_django_does():
    from django.core.mail import BadHeaderError

    with pytest.raises(BadHeaderError):
        digest("Hi\nBcc: victim@example.test").message().as_bytes()
    with pytest.raises(BadHeaderError):
        digest("Hi", **{"X-Paperboy-Delivery": "1\r\nBcc: x@example.test"}).message().as_bytes()


def test_other_uses_of_the_message_get_djangos_object():
    mime = digest(SUBJECTS[1]).message()
    assert mime["Message-ID"] == HEADERS["Message-ID"]
    assert mime.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("x" * 998, True),
        ("x" * 999, False),
        ("🚀" * 249 + "xx", True),  # 998 bytes
        ("🚀" * 250, False),  # 1,000 bytes in 250 characters
        ("x" * 600 + "\u2028" + "x" * 600, True),  # splitlines() ends a line there, as Django counts
        ("short\n" * 500, True),
    ],
)
def test_the_8bit_check_counts_bytes_per_line_as_django_does(text, fits):
    from django.core.mail.message import SafeMIMEText

    assert fits_8bit(text) is fits
    djangos = SafeMIMEText(text, "plain", "utf-8")["Content-Transfer-Encoding"]
    assert (djangos != "quoted-printable") is fits
