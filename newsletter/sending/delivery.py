"""Sending a chunk of digests exactly once (the tick, newsletter.sending.tick, makes the rows).

A chunk claims its rows with one conditional UPDATE (pending -> sending) and sends only what it
claimed, so a redelivered task, a rerun tick or a second worker finds nothing left to send.
"""

import logging
import random
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from config.ids import AnyOf
from newsletter.models import Delivery
from newsletter.ranking.rank import Ranked
from newsletter.sending import journal, send_rate
from newsletter.sending.chunk import ChunkContext, load_claimed
from newsletter.sending.handover import JournalUnavailable, begin_handing, early_handing, hand_over
from newsletter.sending.outcomes import Outcome, SentPair, classify_send_error, save_outcomes
from newsletter.sending.render import build_digest, is_weekly
from newsletter.sending.smtp import ReplyLost
from subscribers.addresses import address_problem
from subscribers.followups import mark_told
from subscribers.status import mailable_q

log = logging.getLogger(__name__)


# --- who is due -----------------------------------------------------------------------------
@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    retry: list[int] = field(default_factory=list)
    # Not attempted: no send slot came before the chunk's deadline (DIGEST_SEND_RATE).
    deferred: list[int] = field(default_factory=list)

    def add(self, other: "Counts") -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.failed += other.failed
        self.unknown += other.unknown
        self.retry += other.retry
        self.deferred += other.deferred


NOT_MAILABLE = "not sent: reader suppressed, unsubscribed or paused after the tick"
REPLY_LOST = (
    "the mail server's reply to this digest was lost after the whole message went out: it may have"
    " been delivered, so it is never resent automatically (a curator can resend it)"
)


def claim(delivery_ids: list[int]) -> str:
    """Claim the pending rows among `delivery_ids` in one UPDATE; the token names them. Only
    readers who may still be mailed are claimed (subscribers.status): one who unsubscribed,
    paused or was suppressed since the tick made their row has it settled unsent instead."""
    token = uuid.uuid4().hex
    pending = Delivery.objects.filter(AnyOf(F("pk"), delivery_ids), status=Delivery.Status.PENDING)
    claimed = pending.filter(mailable_q(via="subscriber__")).update(
        status=Delivery.Status.SENDING,
        claim_token=token,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if claimed < len(delivery_ids):
        # What is still pending now belongs to readers who may no longer be mailed.
        pending.update(status=Delivery.Status.FAILED, error=NOT_MAILABLE)
    return token


def settle_pending_of(subscriber_id: int) -> int:
    """Settle a reader's queued digests unsent at once (an ESP said stop): the claim would skip
    them anyway, but curators see the outcome now rather than at the next chunk."""
    return Delivery.objects.filter(subscriber_id=subscriber_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, error=NOT_MAILABLE
    )


def send_chunk(delivery_ids: list[int], give_up: bool = False) -> Counts:
    """Claim, rank, render and send the chunk over one connection; record every outcome in
    bulk. Rows that failed transiently go back to pending and are returned for a retry;
    with give_up they fail instead."""
    token = claim(delivery_ids)
    deliveries = load_claimed(token)
    counts = Counts()
    if not deliveries:
        return counts
    try:
        journal.record_claimed([d.pk for d in deliveries])
    except Exception as exc:  # cache down: release the claim rather than send blind
        log.warning("delivery journal unavailable, chunk released for a retry: %r", exc)
        return release(token, deliveries, counts)
    context = ChunkContext(deliveries)
    sent_papers: list[SentPair] = []
    bounced: list[int] = []
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # the mail server is down or refuses us: nothing was sent, retry it all
        log.warning("mail server unavailable, chunk released for a retry: %r", exc)
        return release(token, deliveries, counts)
    attempted = deliveries
    try:
        for n, delivery in enumerate(deliveries):
            outcome = send_one(delivery, context, connection, sent_papers)
            if outcome == Outcome.DEFERRED:
                attempted = deliveries[:n]
                break
            tally(delivery, outcome, counts, bounced, give_up)
    finally:
        connection.close()
        flush_journal()
    save_outcomes(attempted, sent_papers, bounced)
    if len(attempted) < len(deliveries):
        counts.deferred = defer(token, deliveries[len(attempted) :])
    if context.told:
        mark_told(context.told)
    return counts


def send_in_process(delivery_ids: list[int]) -> Counts:
    """send_chunk for a run by hand (send_digests): rows the send rate deferred past the chunk's
    deadline are sent next in the same process, as a worker would queue them as a new task."""
    counts = send_chunk(delivery_ids)
    while counts.deferred:
        more = send_chunk(counts.deferred)
        counts.deferred = []
        counts.add(more)
    return counts


def release(token: str, deliveries: list[Delivery], counts: Counts) -> Counts:
    """Put a claimed chunk back to pending, none of it sent, for the task to retry."""
    Delivery.objects.filter(claim_token=token, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, claim_token=""
    )
    counts.retry = [d.pk for d in deliveries]
    return counts


def defer(token: str, deliveries: list[Delivery]) -> list[int]:
    """Put rows never attempted back to pending, their attempt not counted, for a new task."""
    ids = [d.pk for d in deliveries]
    Delivery.objects.filter(pk__in=ids, claim_token=token, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, claim_token="", attempts=F("attempts") - 1
    )
    return ids


def send_one(delivery: Delivery, context: ChunkContext, connection, sent_papers: list["SentPair"]) -> str:
    items = context.rank_for(delivery)
    if not items:
        delivery.status = Delivery.Status.SKIPPED
        return Delivery.Status.SKIPPED
    delivery.items = [{"paper": i.paper.pk, "reasons": list(i.reasons)} for i in items]
    problem = unsendable(delivery.subscriber.email)
    if problem:  # a row from before the address rule: never mailed to a mangled mailbox
        delivery.error = f"not sent: {problem}"
        return Outcome.FAILED
    # With a rate, the slot is taken once the digest is built, right before the hand-over: the
    # rendering between them made the pace the ESP sees uneven (a second with rate + burst + 1).
    # "Handing" is never written before a wait, or a crash while waiting would leave it in doubt.
    paced = send_rate.paced()
    if not paced and not wait_for_slot(context):  # no bucket, but a throttle may hold us all
        return Outcome.DEFERRED
    handing = None
    try:
        if early_handing(connection) and not paced:  # its round trip overlaps the rendering
            handing = begin_handing(delivery.pk)
        message = build_message(delivery, items, context, connection)
        if paced and not wait_for_slot(context):
            return Outcome.DEFERRED
        hand_over(message, delivery.pk, handing)
    except JournalUnavailable as exc:  # nothing was sent: retry later
        delivery.error = str(exc)[:2000]
        return Outcome.RETRY
    except ReplyLost as exc:  # the journal's in-doubt rule, as for a worker that died here
        log.warning("digest %s in doubt: %s", delivery.pk, exc)
        delivery.error = f"{REPLY_LOST} ({exc})"[:2000]
        return Delivery.Status.UNKNOWN
    except Exception as exc:  # classified below: every failure is recorded on its row
        log.warning("digest %s to subscriber %s failed: %r", delivery.pk, delivery.subscriber_id, exc)
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        if send_rate.throttled(exc):  # every worker slows down, not just this message
            send_rate.slow_down(send_rate.retry_after(exc))
        return classify_send_error(exc)
    finally:
        if handing is not None:
            handing.close()
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.error = ""
    delivery.esp_message_id = esp_message_id(message)
    journal.defer_sent(delivery.pk, delivery.esp_message_id, delivery.items)
    context.mark_sent(delivery)
    sent_papers += [SentPair(delivery.subscriber_id, i.paper.pk, delivery.pk) for i in items]
    return Delivery.Status.SENT


def wait_for_slot(context: ChunkContext) -> bool:
    """Sleep until this message's send slot (DIGEST_SEND_RATE, or a throttle's hold); false when
    none comes before the chunk's deadline (nothing reserved: the rest go to a new task)."""
    wait = send_rate.reserve(max_wait=context.deadline - time.monotonic())
    if wait is None:
        return False
    if wait:
        time.sleep(wait)
    return True


def build_message(delivery: Delivery, items: list[Ranked], context: ChunkContext, connection):
    weekly = is_weekly(delivery.subscriber)
    layout = context.layouts[(delivery.edition_id, weekly)]
    news = context.news_of(delivery)
    return build_digest(delivery, items, weekly, connection=connection, news=news, layout=layout)


def unsendable(address: str) -> str | None:
    # Sign-up and the import checked every address; only a non-ASCII one needs a second look.
    return None if address.isascii() else address_problem(address)


def flush_journal() -> None:
    try:
        journal.flush()
    except Exception as exc:  # the ledger still records them next; only a crash would not
        log.warning("journal unavailable at the end of a chunk: %r", exc)


def esp_message_id(message) -> str:
    status = getattr(message, "anymail_status", None)
    if status is not None and status.message_id:
        return str(status.message_id)[:255]
    return str(message.extra_headers.get("Message-ID", ""))[:255]


def tally(delivery: Delivery, outcome: str, counts: Counts, bounced: list[int], give_up: bool) -> None:
    if outcome == Delivery.Status.SENT:
        counts.sent += 1
    elif outcome == Delivery.Status.SKIPPED:
        counts.skipped += 1
    elif outcome == Delivery.Status.UNKNOWN:
        delivery.status = Delivery.Status.UNKNOWN
        counts.unknown += 1
    elif outcome == Outcome.RETRY and not give_up:
        delivery.status = Delivery.Status.PENDING
        counts.retry.append(delivery.pk)
    else:
        delivery.status = Delivery.Status.FAILED
        counts.failed += 1
        if outcome == Outcome.BOUNCED:
            bounced.append(delivery.subscriber_id)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter, capped: DIGEST_RETRY_DELAY (60 s) doubled per attempt,
    at most CELERY_MAX_RETRY_DELAY."""
    base = min(settings.CELERY_MAX_RETRY_DELAY, settings.DIGEST_RETRY_DELAY * 2**attempt)
    return base * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)
