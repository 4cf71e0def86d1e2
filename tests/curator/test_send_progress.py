"""A send in progress on the dashboard: sent of due, the measured rate and the expected finish."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from newsletter.console.stats import sends_in_progress
from newsletter.models import Delivery, Edition
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
S = Delivery.Status


def readers(n: int) -> list[Subscriber]:
    Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.test", confirm_nonce="n" * 32) for i in range(n)
    )
    return list(Subscriber.objects.order_by("pk")[:n])


def edition(day: date, rows: list[tuple[str, datetime | None]]) -> Edition:
    """An edition with one delivery per (status, sent_at), each to its own reader."""
    ed = Edition.objects.create(listed_on=day, status=Edition.Status.SENDING)
    who = list(Subscriber.objects.order_by("pk")[: len(rows)])
    Delivery.objects.bulk_create(
        Delivery(edition=ed, subscriber=s, status=status, sent_at=at)
        for s, (status, at) in zip(who, rows, strict=True)
    )
    return ed


def half_sent(day: date = date(2026, 3, 10)) -> Edition:
    """100 due, 30 sent (12 in the last minute: 0.2/s), 60 pending and 10 sending: 350 s to go."""
    recent = [(S.SENT, NOW - timedelta(seconds=5 * i + 1)) for i in range(12)]  # 1 s .. 56 s ago
    earlier = [(S.SENT, NOW - timedelta(minutes=10))] * 18
    return edition(day, recent + earlier + [(S.PENDING, None)] * 60 + [(S.SENDING, None)] * 10)


def test_the_rate_is_measured_over_the_last_minute_and_gives_the_finish(django_assert_num_queries):
    readers(100)
    ed = half_sent()
    with django_assert_num_queries(1):
        [send] = sends_in_progress(NOW)
    assert (send.edition_id, send.listed_on) == (ed.pk, date(2026, 3, 10))
    assert (send.due, send.done, send.sent, send.left, send.percent) == (100, 30, 30, 70, 30)
    assert send.rate == pytest.approx(0.2)
    assert send.finish_at == NOW + timedelta(seconds=350)
    assert send.minutes_left == 6


def test_nothing_sent_in_the_last_minute_means_no_finish_time():
    readers(10)
    stalled = [(S.SENT, NOW - timedelta(minutes=5))] * 2 + [(S.FAILED, None), (S.SKIPPED, None)]
    edition(date(2026, 3, 9), stalled + [(S.PENDING, None)] * 6)
    [send] = sends_in_progress(NOW)
    assert (send.due, send.done, send.sent, send.rate) == (10, 4, 2, 0.0)
    assert send.finish_at is None and send.minutes_left is None


def test_a_fully_sent_edition_is_not_listed_and_queries_do_not_grow(django_assert_num_queries):
    readers(100)
    edition(date(2026, 3, 8), [(S.SENT, NOW - timedelta(seconds=10))] * 8 + [(S.UNKNOWN, None)] * 2)
    assert sends_in_progress(NOW) == []
    half_sent(date(2026, 3, 10))
    edition(date(2026, 3, 9), [(S.PENDING, None)] * 3)
    with django_assert_num_queries(1):
        sends = sends_in_progress(NOW)
    assert [s.listed_on for s in sends] == [date(2026, 3, 9), date(2026, 3, 10)]  # oldest first


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_sent_of_due_the_rate_and_the_finish(curator_client, settings):
    settings.DIGEST_SEND_RATE = 0.5
    readers(100)
    half_sent()
    page = curator_client.get("/admin/dashboard/").content.decode()
    section = page.split('<section class="dashboard-sends"')[1].split("</section>")[0]
    assert "Sends in progress</h2>" in section and "Edition of 10 Mar 2026" in section
    assert "sent 30 of 100 due" in section
    assert '<progress value="30" max="100"' in section and ">30%</progress>" in section
    assert "Rate: 0.2/s (limit 0.5/s)" in section
    assert "Expected to finish at 12:05:50 UTC (in about 6 min)." in section


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_says_when_a_send_waits_or_none_is_running(curator_client, settings):
    settings.DIGEST_SEND_RATE = None
    assert "No send in progress." in curator_client.get("/admin/dashboard/").content.decode()
    readers(3)
    edition(date(2026, 3, 10), [(S.PENDING, None)] * 3)
    page = curator_client.get("/admin/dashboard/").content.decode()
    assert "sent 0 of 3 due" in page and "Rate: 0.0/s (no limit)" in page
    assert "Waiting: nothing sent in the last minute." in page and "No send in progress" not in page
