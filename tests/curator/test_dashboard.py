"""The dashboard's charts: drawn server-side as SVG with a title, a text alternative and a table."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from newsletter.console.charts import bar_chart, line_chart, nice_max
from newsletter.console.stats import (
    Series,
    bounce_and_complaint_rates,
    digests_sent_per_day,
    subscribers_over_time,
)
from newsletter.models import Delivery
from subscribers.models import Status, Subscriber
from tests.newsletter.personas import reader

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_nice_axis_tops():
    assert [nice_max(v) for v in (0, 0.3, 7, 12, 180, 1000)] == [1.0, 0.5, 10, 20, 200, 1000]


def test_a_line_chart_is_accessible_svg_and_escapes_labels():
    day = NOW.date()
    svg = line_chart("c1", "Sent <per> day", [Series("a<b", [(day, 1.0), (day + timedelta(days=1), 3.0)])])
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'role="img"' in svg
    assert '<title id="c1-title">Sent &lt;per&gt; day</title>' in svg
    assert "a&lt;b: 1 on 10 Mar 2026, 3 on 11 Mar 2026, highest 3." in svg
    assert svg.count("<polyline") == 1 and "a<b" not in svg


def test_a_bar_chart_lists_every_bar_in_its_description():
    svg = bar_chart("t", "Readers per topic", [("Video", 3), ("Robots & AI", 1)])
    assert '<desc id="t-desc">Video: 3; Robots &amp; AI: 1</desc>' in svg
    assert svg.count("<rect") == 2


@time_machine.travel(NOW, tick=False)
def test_the_series_count_readers_digests_and_rates_per_day(sent_edition):
    day = NOW.date()
    Subscriber.objects.update(confirmed_at=NOW - timedelta(days=20))
    reader("new@example.test", [], confirmed_at=NOW - timedelta(days=1))
    Subscriber.objects.filter(email="bob@example.test").update(status=Status.BOUNCED, updated_at=NOW)
    Delivery.objects.update(sent_at=NOW, status=Delivery.Status.SENT)
    Delivery.objects.filter(subscriber__email="bob@example.test").update(esp_status="bounced")
    start = day - timedelta(days=2)
    readers, left = subscribers_over_time(start, day)
    assert [v for _, v in readers.points] == [2.0, 3.0, 2.0]
    assert [v for _, v in left.points] == [0.0, 0.0, 1.0]
    assert [v for _, v in digests_sent_per_day(start, day)[0].points] == [0.0, 0.0, 2.0]
    bounce, complaint = bounce_and_complaint_rates(start, day)
    assert bounce.points[-1][1] == 50.0 and complaint.points[-1][1] == 0.0


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_page_shows_every_chart_with_its_numbers(curator_client, sent_edition):
    page = curator_client.get("/admin/dashboard/?days=90").content.decode()
    for title in ("Subscribers over time", "Digests sent per day", "Bounce and complaint rates",
                  "Papers listed per day", "Readers per topic"):  # fmt: skip
        assert f"{title}</title>" in page, title
    assert page.count('role="img" class="chart"') == 5
    assert '<th scope="row">2026-03-04</th><td>6</td>' in page  # the six papers of the day
    assert 'aria-current="page">last 90 days' in page
    assert "<script" not in page.split('<div id="content-main">')[1]  # no JavaScript needed
