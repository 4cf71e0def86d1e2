"""Handing one digest to the mail server, with the delivery journal kept in step.

The journal must say "handing" before the mail server can have the message, or a crash could
leave a sent digest that recovery would send again (newsletter.sending.recovery). Over SMTP that moment
is the dot ending DATA (newsletter.sending.smtp), so "handing" is written right before it: a crash while
the body streams leaves the digest "claimed", and recovery sends it again, once. Other backends
(Anymail ESPs: one HTTP request) record "handing" before sending.
"""

from django.core.mail import EmailMessage

from newsletter.sending import journal
from newsletter.sending.smtp import EmailBackend as DotHookBackend


class JournalUnavailable(RuntimeError):
    """The journal could not be written, so the digest was not handed over."""


def early_handing(connection) -> bool:
    """May "handing" be written before the message is built (journal.begin_handing)? Not over
    SMTP, where it goes right before the final dot."""
    return not isinstance(connection, DotHookBackend)


def begin_handing(delivery_id: int) -> journal.Handing:
    """journal.begin_handing; JournalUnavailable if the journal is down (nothing was sent)."""
    try:
        return journal.begin_handing(delivery_id)
    except Exception as exc:
        raise JournalUnavailable(f"delivery journal unavailable: {exc!r}") from exc


def hand_over(message: EmailMessage, delivery_id: int, handing: journal.Handing | None = None) -> None:
    """Record "handing" (or wait for `handing`, begun while the message was built), then send.
    JournalUnavailable if the journal is down (nothing was sent); the backend's own exception
    if sending failed."""

    def record_handing() -> None:
        try:
            if handing is not None:
                handing.confirm()
            else:
                journal.record_handing(delivery_id)
        except Exception as exc:  # cache down: do not send blind
            raise JournalUnavailable(f"delivery journal unavailable: {exc!r}") from exc

    backend = message.get_connection()
    if isinstance(backend, DotHookBackend):
        with backend.before_dot(record_handing):
            message.send()
    else:
        record_handing()
        message.send()
