"""Handing one digest to the mail server, with the delivery journal kept in step.

The journal must say "handing" before the mail server can have the message, or a crash could
leave a sent digest that recovery would send again (newsletter.recovery).
"""

from django.core.mail import EmailMessage

from newsletter import journal


class JournalUnavailable(RuntimeError):
    """The journal could not be written, so the digest was not handed over."""


def hand_over(message: EmailMessage, delivery_id: int) -> None:
    """Record "handing", then send. JournalUnavailable if the journal is down (nothing was
    sent); the backend's own exception if sending failed."""
    try:
        journal.record_handing(delivery_id)
    except Exception as exc:  # cache down: do not send blind
        raise JournalUnavailable(f"delivery journal unavailable: {exc!r}") from exc
    message.send()
