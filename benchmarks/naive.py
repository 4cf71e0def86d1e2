"""The naive baseline (one template render per reader) and the per-chunk probes (queries, a
profile), each inside a transaction that is rolled back."""

import cProfile
import io
import pstats
import time
from collections.abc import Sequence

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from config.emails import build_email
from newsletter.models import Delivery, Edition, SentPaper
from newsletter.ranking.rank import Ranked, candidates_of, profile_of, rank
from newsletter.sending.context import digest_context, digest_headers
from newsletter.sending.delivery import send_chunk
from newsletter.sending.render import is_weekly, tagged
from papers.models import Paper
from subscribers.followups import News
from subscribers.tokens import unsubscribe_urls


class Rollback(Exception):
    pass


def rolled_back(work):
    """Run `work()` in a transaction that is rolled back; return its result."""
    box = []
    try:
        with transaction.atomic():
            box.append(work())
            raise Rollback
    except Rollback:
        pass
    return box[0]


def chunk_queries(edition: Edition, subscriber_ids: list[int]) -> int:
    """Queries one send_chunk of these readers makes (rolled back, mail kept in memory)."""

    def work() -> int:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        in_memory = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        with in_memory, CaptureQueriesContext(connection) as queries:
            send_chunk(ids)
        return len(queries)

    return rolled_back(work)


def naive_rate(edition: Edition, subscriber_ids: list[int]) -> float:
    """Digests per second of the naive path, one reader at a time in this process."""

    def work() -> float:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        started = time.perf_counter()
        for pk in ids:
            naive_one(pk)
        return len(ids) / (time.perf_counter() - started)

    return rolled_back(work)


def naive_one(delivery_id: int) -> bytes | None:
    delivery = Delivery.objects.select_related("subscriber", "edition").get(pk=delivery_id)
    subscriber = delivery.subscriber
    edition = Edition.objects.prefetch_related("picks", "hidden").get(pk=delivery.edition_id)
    papers = Paper.objects.in_bulk([int(pid) for pid in edition.scores.get("papers", {})])
    sent = set(SentPaper.objects.filter(subscriber=subscriber).values_list("paper_id", flat=True))
    items = rank(profile_of(subscriber, subscriber.topics.all()), candidates_of([edition], papers), sent)
    if not items:
        return None
    return build_digest_one_by_one(delivery, items, is_weekly(subscriber)).message().as_bytes()


def profile_chunk(edition: Edition, subscriber_ids: list[int], top: int = 25) -> str:
    """cProfile of one chunk of the real send path in this process, cumulative time first."""

    def work() -> str:
        ids = [Delivery.objects.create(edition=edition, subscriber_id=s).pk for s in subscriber_ids]
        profiler = cProfile.Profile()
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            profiler.enable()
            send_chunk(ids)
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        return out.getvalue()

    return rolled_back(work)


def build_digest_one_by_one(
    delivery: Delivery,
    items: list[Ranked],
    weekly: bool,
    connection: BaseEmailBackend | None = None,
    news: Sequence[News] = (),
) -> EmailMultiAlternatives:
    """The same email rendered from the templates for this reader alone: the reference the
    assembled path is tested against, and the benchmark's naive baseline."""
    context = digest_context(delivery, items, weekly, news)
    _, one_click = unsubscribe_urls(delivery.subscriber)
    message = build_email(
        "digest",
        {**context, "end_mark": ""},
        [delivery.subscriber.email],
        headers=digest_headers(delivery, one_click),
        connection=connection,
    )
    return tagged(message, delivery)
