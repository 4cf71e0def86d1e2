"""Subscriber CSV import and export for curators.

An import never activates anyone: each new address gets the double opt-in confirmation email,
as if it had signed up itself, and the curator's consent note (where these people agreed) is
stored as their consent. Existing, erased and bounced addresses are left alone.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet

from subscribers.addresses import address_problem
from subscribers.models import Frequency, Subscriber, Topic, normalise_email
from subscribers.services import Consent, SignupChoices, sign_up
from subscribers.status import suppression_of

IMPORT_CONSENT_VERSION = "import"
MAX_IMPORT_ROWS = 10_000
EXPORT_FIELDS = [
    "email", "status", "frequency", "weekday", "delivery_hour", "time_zone", "topics", "created_at",
    "confirmed_at", "consent_at", "consent_version", "unsubscribed_at",
]  # fmt: skip


class ImportFileError(ValueError):
    """The file cannot be read as a CSV of addresses."""


@dataclass
class ImportResult:
    invited: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, address, reason)


def read_addresses(data: bytes) -> Iterator[tuple[int, str]]:
    """(line number, address) of each row: the `email` column when there is a header naming one,
    else the first column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text.") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_IMPORT_ROWS + 1:
        raise ImportFileError(f"At most {MAX_IMPORT_ROWS} rows per import.")
    column, start = 0, 0
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "email" in header:
        column, start = header.index("email"), 1
    for number, row in enumerate(rows[start:], start=start + 1):
        if any(cell.strip() for cell in row):
            yield number, row[column].strip() if column < len(row) else ""


def import_subscribers(
    addresses: Iterable[tuple[int, str]], consent_note: str, topics: list[Topic], curator: str
) -> ImportResult:
    if not consent_note.strip():
        raise ValueError("An import needs a consent note: where and how these people agreed.")
    result, seen = ImportResult(), set()
    for line, raw in addresses:
        email = normalise_email(raw)
        reason = skip_reason(email, seen)
        if reason:
            result.skipped.append((line, raw, reason))
            continue
        seen.add(email)
        outcome = sign_up(
            SignupChoices(email=email, topics=topics, frequency=Frequency.DAILY),
            Consent(ip=None, user_agent=f"admin import by {curator}"[:500]),
        )
        Subscriber.objects.with_email(email).update(
            consent_text=consent_note.strip(), consent_version=IMPORT_CONSENT_VERSION
        )
        if outcome == "confirmation-sent":
            result.invited.append(email)
        else:
            result.skipped.append(
                (line, raw, "stored, but over today's mail quota: resend the confirmation later")
            )
    return result


def skip_reason(email: str, seen: set[str]) -> str:
    problem = address_problem(email)
    if problem:
        return problem
    if email in seen:
        return "listed twice"
    if suppression_of(email):
        return "suppressed (erased at its owner's request, or by a curator)"
    existing = Subscriber.objects.by_email(email)
    if existing is not None:
        return f"already a subscriber ({existing.get_status_display().lower()})"
    return ""


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_rows(subscribers: QuerySet[Subscriber]) -> Iterator[list[str]]:
    yield EXPORT_FIELDS
    for subscriber in subscribers.prefetch_related("topics").order_by("pk").iterator(chunk_size=1000):
        values = {name: getattr(subscriber, name, None) for name in EXPORT_FIELDS}
        values["topics"] = " ".join(t.slug for t in subscriber.topics.all())
        yield [safe_cell(values[name]) for name in EXPORT_FIELDS]
