from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from newsletter.models import Delivery, Edition, SentPaper
from newsletter.sending import journal
from newsletter.sending.delivery import send_chunk
from newsletter.sending.recovery import recover_abandoned
from newsletter.sending.tick import (
    BATCH_CHUNKS,
    HEAD_START_CHUNKS,
    create_deliveries,
    in_profile_order,
    latest_delivery_moment,
    run_tick,
)
from papers.models import Paper
from subscribers.models import Status
from tests.newsletter.personas import DAY, a_day_of_papers, alice, bob, carol, reader, released_edition, topic
from tests.services import require_postgres

pytestmark = pytest.mark.django_db
RELEASED = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tick(now: datetime, edition=None, ignore_time=False):
    """Run a tick with chunks sent inline; returns the chunks dispatched."""
    chunks: list[list[int]] = []
    run_tick(now, chunks.append, edition, ignore_time)
    for chunk in chunks:
        send_chunk(chunk)
    return chunks


def test_the_delivery_moment_follows_the_readers_clock_across_dst():
    # Paris switches to summer time on 2026-03-29: 08:00 local is 07:00 UTC before, 06:00 after.
    assert latest_delivery_moment(utc(2026, 3, 28, 12), "Europe/Paris", 8) == utc(2026, 3, 28, 7)
    assert latest_delivery_moment(utc(2026, 3, 29, 12), "Europe/Paris", 8) == utc(2026, 3, 29, 6)
    # Before today's hour, the moment is yesterday's.
    assert latest_delivery_moment(utc(2026, 3, 29, 5), "Europe/Paris", 8) == utc(2026, 3, 28, 7)
    # New York falls back on 2026-11-01: 07:00 local is 11:00 UTC before, 12:00 after.
    assert latest_delivery_moment(utc(2026, 10, 31, 13), "America/New_York", 7) == utc(2026, 10, 31, 11)
    assert latest_delivery_moment(utc(2026, 11, 1, 13), "America/New_York", 7) == utc(2026, 11, 1, 12)


def test_each_reader_gets_the_edition_at_their_own_hour(smtp_server):
    a, b = alice(), bob()
    a_day_of_papers()
    released_edition(at=RELEASED)
    tick(utc(2026, 3, 4, 21))  # after release, before anyone's hour
    assert smtp_server.messages == []
    tick(utc(2026, 3, 5, 7, 0))  # 08:00 in Paris
    assert [m["To"] for m in smtp_server.messages] == [a.email]
    tick(utc(2026, 3, 5, 12, 0))  # 07:00 in New York
    assert [m["To"] for m in smtp_server.messages] == [a.email, b.email]
    tick(utc(2026, 3, 5, 12, 15))
    tick(utc(2026, 3, 5, 19, 0))
    assert len(smtp_server.messages) == 2


def test_rerunning_the_tick_and_redelivering_a_chunk_send_nothing_twice(smtp_server):
    alice()
    a_day_of_papers()
    released_edition(at=RELEASED)
    chunks = tick(utc(2026, 3, 5, 7))
    assert len(smtp_server.messages) == 1
    assert tick(utc(2026, 3, 5, 7, 1)) == []
    send_chunk(chunks[0])  # a redelivered task
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_a_reader_confirmed_after_their_hour_waits_for_the_next_edition(smtp_server):
    alice(confirmed_at=utc(2026, 3, 5, 7, 30))
    a_day_of_papers()
    released_edition(at=RELEASED)
    tick(utc(2026, 3, 5, 9))
    assert smtp_server.messages == []


def test_weekly_readers_get_theirs_on_their_weekday_only(smtp_server):
    c = carol()  # Thursdays, 07:00 Tokyo
    a_day_of_papers()
    released_edition(at=RELEASED)  # Wednesday 20:00 UTC = Thursday 05:00 Tokyo
    tick(utc(2026, 3, 4, 22, 5))  # Thursday 07:05 in Tokyo
    assert [m["To"] for m in smtp_server.messages] == [c.email]
    # Her own pick (an author she follows) is counted and named; the trending ones come after it.
    message = smtp_server.messages[0]
    assert message["Subject"] == "1 paper this week: World Models"
    text = message.get_body(("plain",)).get_content()
    own, section = text.index("1. World Models"), text.index("Also trending this week")
    assert own < section < text.index("- Scaling Laws")


def test_paused_pending_and_unsubscribed_readers_get_nothing(smtp_server):
    alice(frequency="paused")
    bob(status=Status.PENDING)
    reader("dave@example.test", [topic("video", "video generation")], status=Status.UNSUBSCRIBED)
    a_day_of_papers()
    released_edition(at=RELEASED)
    tick(utc(2026, 3, 5, 13), ignore_time=True)
    assert smtp_server.messages == []


def test_no_email_when_nothing_matches_and_no_trending_was_asked_for(smtp_server):
    reader("erin@example.test", [topic("quantum", "quantum error correction")], include_trending=False)
    a_day_of_papers()
    released_edition(at=RELEASED)
    tick(utc(2026, 3, 5, 13), ignore_time=True)
    assert smtp_server.messages == []
    assert Delivery.objects.get().status == Delivery.Status.SKIPPED


def test_a_hard_bounce_fails_the_row_and_suppresses_the_reader(smtp_server):
    a = alice()
    smtp_server.refuse[a.email] = "550 5.1.1 No such user"
    a_day_of_papers()
    released_edition(at=RELEASED)
    tick(utc(2026, 3, 5, 13), ignore_time=True)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert "No such user" in delivery.error
    a.refresh_from_db()
    assert a.status == Status.BOUNCED
    assert SentPaper.objects.count() == 0


def test_a_temporary_refusal_goes_back_to_pending_for_a_retry(smtp_server):
    a = alice()
    smtp_server.refuse[a.email] = "451 4.3.0 Try again later"
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    chunks: list[list[int]] = []
    run_tick(utc(2026, 3, 5, 13), chunks.append, edition, ignore_time=True)
    counts = send_chunk(chunks[0])
    assert counts.retry == chunks[0]
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    del smtp_server.refuse[a.email]
    assert send_chunk(counts.retry).sent == 1
    assert Delivery.objects.get().attempts == 2
    assert len(smtp_server.messages) == 1


def test_the_last_attempt_fails_instead_of_retrying(smtp_server):
    a = alice()
    smtp_server.refuse[a.email] = "451 4.3.0 Try again later"
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    chunks: list[list[int]] = []
    run_tick(utc(2026, 3, 5, 13), chunks.append, edition, ignore_time=True)
    counts = send_chunk(chunks[0], give_up=True)
    assert (counts.failed, counts.retry) == (1, [])
    a.refresh_from_db()
    assert a.status == Status.ACTIVE  # a temporary failure never suppresses


def stuck_rows(names: list[str]) -> tuple[list[Delivery], datetime]:
    """Readers' rows claimed by a worker that then died, and a time when its task is over."""
    for name in names:
        reader(f"{name}@example.test", [topic("video", "video generation")])
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    run_tick(utc(2026, 3, 5, 13), lambda chunk: None, edition, ignore_time=True)
    Delivery.objects.update(
        status=Delivery.Status.SENDING, claim_token="dead", claimed_at=utc(2026, 3, 5, 13)
    )
    rows = list(Delivery.objects.order_by("subscriber__email"))
    task_over = django_settings.CELERY_TASK_TIME_LIMIT + django_settings.DIGEST_RECOVERY_GRACE + 1
    return rows, utc(2026, 3, 5, 13) + timedelta(seconds=task_over)


def test_a_dead_workers_rows_are_settled_from_the_journal_once_its_task_is_over(smtp_server, settings):
    (claimed, handing, sent, lost), after = stuck_rows(["a-claimed", "b-handing", "c-sent", "d-lost"])
    paper = Paper.objects.get(arxiv_id="2603.03041")
    journal.record_claimed([claimed.pk, handing.pk, sent.pk])
    journal.record_handing(handing.pk)
    journal.defer_sent(sent.pk, "<msg@x>", [{"paper": paper.pk, "reasons": ["r"]}])
    journal.flush()  # as the send path does at the end of a chunk
    assert recover_abandoned(after - timedelta(seconds=2)).pending == []  # its task may still run
    tick(after)  # settles them, and sends the never-attempted one, and only it
    status = dict(Delivery.objects.values_list("pk", "status"))
    assert status == {claimed.pk: "sent", handing.pk: "unknown", sent.pk: "sent", lost.pk: "unknown"}
    assert [m["To"] for m in smtp_server.messages] == ["a-claimed@example.test"]
    assert SentPaper.objects.filter(delivery=sent).count() == 1


def test_an_unreadable_journal_leaves_nothing_to_resend(smtp_server, settings):
    _, after = stuck_rows(["a"])
    # Nothing listens on port 9: the cache (the journal) is down.
    redis_down = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
    settings.CACHES = {"default": redis_down}
    assert recover_abandoned(after).unknown == 1
    assert Delivery.objects.get().status == Delivery.Status.UNKNOWN


def chunk_of(n: int, topics_each: int) -> list[int]:
    """Ledger rows for `n` new readers of the edition, each with `topics_each` topics."""
    topics = [topic(f"t{i}", f"term{i}, diffusion models") for i in range(topics_each)]
    ids = []
    edition = Edition.objects.get()
    for i in range(n):
        subscriber = reader(f"r{n}-{topics_each}-{i}@example.test", topics, keywords=["weather"])
        ids.append(Delivery.objects.create(subscriber=subscriber, edition=edition).pk)
    return ids


def queries_for_chunk(n: int, topics_each: int) -> int:
    ids = chunk_of(n, topics_each)
    with CaptureQueriesContext(connection) as queries:
        counts = send_chunk(ids)
    assert counts.sent == n
    return len(queries)


def test_queries_per_chunk_do_not_grow_with_chunk_size_or_topics(smtp_server):
    a_day_of_papers()
    released_edition(at=RELEASED)
    small = queries_for_chunk(2, 1)
    assert queries_for_chunk(20, 1) == small
    assert queries_for_chunk(20, 6) == small
    # 12, plus one for the news on liked papers, plus one for the chunk's editions (loaded once
    # rather than joined to every row)
    assert small <= 14, small


def test_a_chunks_queries_take_as_many_parameters_whatever_its_size(smtp_server):
    """Ids go as one array: psycopg parses a query once and keeps it, unless it is longer than
    its cache takes (a pk__in of 500 placeholders was, and parsing it was 3% of a worker)."""
    require_postgres()
    a_day_of_papers()
    released_edition(at=RELEASED)

    def parameters_for_chunk(n: int) -> list[int]:
        ids, counts = chunk_of(n, 1), []

        def count(execute, sql, params, many, context):
            counts.append(len(params or ()))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert send_chunk(ids).sent == n
        return counts

    assert parameters_for_chunk(30) == parameters_for_chunk(3)


def test_send_digests_builds_the_days_edition_and_prints_counts(smtp_server, capsys):
    alice()
    bob()
    a_day_of_papers()
    call_command("send_digests", "--date", DAY.isoformat(), "--now")
    out = capsys.readouterr().out.strip()
    assert out == "edition 2026-03-04: due 2, queued 2, sent 2, skipped 0, failed 0, retry 0, unknown 0"
    call_command("send_digests", "--date", DAY.isoformat(), "--now")
    assert "due 0, queued 0, sent 0" in capsys.readouterr().out
    assert len(smtp_server.messages) == 2


def test_send_digests_says_when_a_day_has_no_papers():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No papers are stored for 2026-03-07"):
        call_command("send_digests", "--date", "2026-03-07")


def test_news_on_a_liked_paper_comes_once_in_the_next_digest(smtp_server):
    from subscribers.feedback import record_vote

    reader_ = alice()
    old = a_day_of_papers(DAY)
    record_vote(reader_, old["diffusion"], 1)
    old["diffusion"].github_repo = "https://github.com/example/weather"
    old["diffusion"].save()
    next_day = DAY + timedelta(days=1)
    a_day_of_papers(next_day)
    released_edition(next_day, at=utc(2026, 3, 5, 20))
    tick(utc(2026, 3, 6, 7), ignore_time=True)
    [message] = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    assert "News on papers you liked:" in text
    assert "- A Diffusion Model for Weather: code released" in text
    from subscribers.followups import news_for

    assert news_for([reader_.pk]) == {}  # told: the next digest will not repeat it


def test_deliveries_are_created_once_in_the_readers_order():
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    readers = [reader(f"order{i}@example.test").pk for i in range(5)]
    order = [readers[3], readers[0], readers[4], readers[1], readers[2]]
    created = sorted(create_deliveries(edition, order))
    rows = Delivery.objects.in_bulk(created)
    assert [rows[pk].subscriber_id for pk in created] == order  # ids ascend in the readers' order
    assert all(rows[pk].status == Delivery.Status.PENDING and rows[pk].items == [] for pk in created)
    # An overlapping tick creates nothing more (and on PostgreSQL returns nothing to dispatch).
    again = create_deliveries(edition, order)
    assert Delivery.objects.count() == 5
    assert sorted(again) == ([] if connection.vendor == "postgresql" else created)


def test_a_tick_overlapping_another_creates_only_the_rows_that_one_did_not():
    """An overlapping tick found some readers due whose rows the other tick has since inserted:
    it creates the others', returns only those, and its batch's transaction stays usable."""
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    readers = [reader(f"overlap{i}@example.test").pk for i in range(6)]
    theirs = create_deliveries(edition, readers[:3])
    with transaction.atomic():
        mine = create_deliveries(edition, readers)
        assert Delivery.objects.filter(pk__in=mine).count() == len(mine)  # still usable
    by_reader = dict(Delivery.objects.values_list("subscriber_id", "pk"))
    assert sorted(by_reader) == sorted(readers)
    if connection.vendor == "postgresql":
        assert sorted(mine) == sorted(by_reader[pk] for pk in readers[3:])
        assert not set(mine) & set(theirs)


def test_readers_of_the_same_preferences_come_out_together_whatever_their_sign_up_order():
    """The tick's order puts readers alike in one run, so a chunk ranks and renders their digest
    once; readers differing in any one preference are in different runs."""
    video, diffusion = topic("video", "video generation"), topic("diffusion", "diffusion models")
    profiles = {
        "video": {"topics": [video]},
        "both": {"topics": [diffusion, video]},
        "both-weekly": {"topics": [video, diffusion], "frequency": "weekly"},
        "video-kw": {"topics": [video], "keywords": ["sora"]},
        "video-no-kw": {"topics": [video], "excluded_keywords": ["sora"]},
        "video-author": {"topics": [video], "followed_authors": ["Ada Lovelace"]},
        "video-5": {"topics": [video], "max_papers": 5},
        "video-trending": {"topics": [video], "include_trending": True},
        "video-upvotes": {"topics": [video], "min_upvotes": 10},
        "none": {},
    }
    profile_of: dict[int, str] = {}
    for n in range(4):  # signed up interleaved: a, b, c, ..., a, b, c, ...
        for name, fields in profiles.items():
            fields = dict(fields)
            chosen = fields.pop("topics", [])
            profile_of[reader(f"{name}-{n}@example.test", chosen, **fields).pk] = name
    order = in_profile_order(list(profile_of))
    assert sorted(order) == sorted(profile_of)
    runs = [
        name
        for i, name in enumerate(profile_of[pk] for pk in order)
        if i == 0 or profile_of[order[i - 1]] != name
    ]
    assert sorted(runs) == sorted(profiles)  # one run per profile
    for name in profiles:
        ids = [pk for pk in order if profile_of[pk] == name]
        assert ids == sorted(ids)  # within a run, in sign-up order


@pytest.mark.django_db(transaction=True)
def test_the_tick_hands_out_its_first_chunks_before_it_inserts_the_rest(settings):
    """Workers start sending while the tick still inserts rows: the first chunks are dispatched
    once their rows are committed (seen from another connection), before the others exist."""
    settings.DIGEST_CHUNK_SIZE = 1
    for n in range(50):
        reader(f"reader{n:02}@example.test", [topic("video", "video generation")])
    a_day_of_papers()
    edition = released_edition(at=RELEASED)
    committed_at_dispatch: list[int] = []

    def dispatch(chunk: list[int]) -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT id FROM newsletter_delivery")
                committed = {row[0] for row in cursor.fetchall()}
        finally:
            other.close()
        assert set(chunk) <= committed, "a chunk went out before its rows were committed"
        committed_at_dispatch.append(len(committed))

    result = run_tick(utc(2026, 3, 5, 13), dispatch, edition, ignore_time=True)
    assert result.queued == 50 and Delivery.objects.count() == 50
    # The head's chunks go out with only the head's rows inserted; then batch after batch.
    head, batch = HEAD_START_CHUNKS, BATCH_CHUNKS
    expected = [head] * head
    for start in range(head, 50, batch):
        expected += [min(50, start + batch)] * (min(50, start + batch) - start)
    assert committed_at_dispatch == expected and len(set(expected)) >= 3  # head and two batches
    assert Edition.objects.get(pk=edition.pk).status == Edition.Status.SENDING


def test_readers_alike_share_a_ranking_but_never_one_of_them_gets_a_paper_twice(smtp_server):
    topics = [topic("video", "video generation, text-to-video"), topic("diffusion", "diffusion")]
    a, b, c = (reader(f"alike-{name}@example.test", topics) for name in "abc")
    before = DAY - timedelta(days=1)
    a_day_of_papers(before)
    c_earlier = Delivery.objects.create(subscriber=c, edition=released_edition(before))
    papers = a_day_of_papers()
    SentPaper.objects.create(subscriber=c, paper=papers["video"], delivery=c_earlier)
    edition = released_edition(at=RELEASED)
    tick(utc(2026, 3, 5, 13), edition, ignore_time=True)
    got = {d.subscriber_id: [i["paper"] for i in d.items] for d in Delivery.objects.filter(edition=edition)}
    assert got[a.pk] == got[b.pk] and papers["video"].pk in got[a.pk]
    assert got[c.pk] == [pk for pk in got[a.pk] if pk != papers["video"].pk]
