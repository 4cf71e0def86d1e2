"""The console in headless Chromium: log in through the form, the dashboard with a month of data and
an edition preview; axe-core on both, screenshots in test-artifacts/screenshots/ (looked at)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from newsletter.models import Delivery, DeliveryEvent, Edition, EspStatus
from papers.models import Paper, PaperListing
from subscribers.default_topics import create_missing_topics
from subscribers.models import Status, Subscriber, Topic
from tests.browser import DESKTOP, PHONE, SCREENSHOTS, axe_violations, capture
from tests.curator.conftest import make_curator
from tests.newsletter.personas import a_day_of_papers, alice, bob, carol, diffusion, released_edition, video

pytestmark = pytest.mark.django_db(transaction=True)
DAYS = 30


def a_month_of_activity() -> Edition:
    """Readers joining over a month, a sent edition a day with a few bounces and a complaint."""
    create_missing_topics(Topic)
    today = timezone.localdate()
    topics = list(Topic.objects.all())
    readers = []
    for n in range(40):
        joined = datetime.combine(today - timedelta(days=DAYS - n * DAYS // 40), time(9), tzinfo=UTC)
        reader = Subscriber.objects.create(
            email=f"reader{n}@example.test", status=Status.ACTIVE, confirmed_at=joined, confirm_nonce="n" * 32
        )
        reader.topics.set(topics[n % len(topics) : n % len(topics) + 1 + n % 3])
        readers.append(reader)
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        papers = a_day_of_papers(day) if back % 7 not in (5, 6) else {}
        if not papers:
            continue
        edition = Edition.objects.create(listed_on=day, status=Edition.Status.SENT)
        sent_at = datetime.combine(day + timedelta(days=1), time(7), tzinfo=UTC)
        joined = [r for r in readers if r.confirmed_at < sent_at]
        rows = Delivery.objects.bulk_create(
            Delivery(edition=edition, subscriber=r, status=Delivery.Status.SENT, sent_at=sent_at)
            for r in joined
        )
        for i, row in enumerate(rows[: back % 3]):
            status = EspStatus.COMPLAINED if i == 1 else EspStatus.BOUNCED
            DeliveryEvent.objects.create(
                esp="postmark",
                event_type=status,
                dedupe_key=f"{day}-{i}",
                delivery=row,
                subscriber=row.subscriber,
            )
            Delivery.objects.filter(pk=row.pk).update(esp_status=status)
    a_day_of_papers()
    alice(), bob(), carol()
    video(), diffusion()
    edition = released_edition()
    edition.curator_note = "A big day for video generation: two labs released open models."
    edition.save()
    return edition


def capture_preview(page, name: str, title: str) -> None:
    """Like tests.browser.capture, but each width waits for the digest to be drawn in its iframe."""
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    frame = page.frame_locator("iframe[title='HTML version of the digest']")
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        expect(frame.get_by_role("link", name=title)).to_be_visible()
        # Two animation frames: the iframe has repainted at the new width.
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        if label == "phone":
            assert page.evaluate("() => document.querySelector('#content-main').scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)


def log_in(page, base: str) -> None:
    page.goto(base + "/admin/login/")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/admin/")


def test_a_curator_sees_the_dashboard_and_previews_an_edition(browser_page, live_server, settings):
    from playwright.sync_api import expect

    page = browser_page
    settings.SITE_URL = live_server.url
    make_curator()
    edition = a_month_of_activity()

    log_in(page, live_server.url)
    page.get_by_role("link", name="Dashboard").click()
    assert page.locator("svg.chart").count() == 5
    assert page.locator("svg.chart title").first.text_content() == "Subscribers over time"
    assert axe_violations(page) == []
    capture(page, "curator-dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    # The charts shrink to a phone's width: no sideways scrolling inside the content.
    assert page.evaluate("() => document.querySelector('.dashboard-charts').scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/admin/newsletter/edition/{edition.pk}/change/")
    page.get_by_role("link", name="Preview and test send").click()
    page.get_by_label("or a subscriber").fill("alice@example.test")
    page.get_by_role("button", name="Show preview").click()
    frame = page.frame_locator("iframe[title='HTML version of the digest']")
    expect(frame.get_by_role("link", name="Text-to-Video Generation with Diffusion Models")).to_be_visible()
    assert "2 papers today" in page.locator(".preview-meta").inner_text()
    assert axe_violations(page) == []
    capture_preview(page, "curator-edition-preview", "Text-to-Video Generation with Diffusion Models")

    page.goto(f"{live_server.url}/admin/newsletter/edition/{edition.pk}/preview/?persona=all-topics")
    expect(frame.get_by_role("link", name="Scaling Laws for Language Models")).to_be_visible()
    capture_preview(page, "curator-edition-preview-persona", "Scaling Laws for Language Models")


def test_topic_matches_update_as_the_curator_types(browser_page, live_server):
    from playwright.sync_api import expect

    page = browser_page
    make_curator()
    create_missing_topics(Topic)
    today = timezone.localdate()
    for n, title in enumerate(
        ["Protein folding with diffusion", "Protein design at scale", "Weather nowcasting"]
    ):
        a_paper = Paper.objects.create(arxiv_id=f"2611.0000{n}", title=title, first_listed_on=today)
        PaperListing.objects.create(paper=a_paper, listed_on=today)
    topic = Topic.objects.create(name="Biology", slug="biology", include_terms="protein")

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/subscribers/topic/{topic.pk}/change/")
    matches = page.locator("#topic-matches")
    expect(matches).to_contain_text("2 of the 3 papers listed in the last 7 days match")
    page.get_by_label("Exclude terms").fill("diffusion")
    expect(matches).to_contain_text("1 of the 3 papers")
    expect(matches.get_by_role("link", name="Protein design at scale")).to_be_visible()
    page.get_by_label("Include terms").fill("protein, weather")
    expect(matches).to_contain_text("2 of the 3 papers")
    assert Topic.objects.get(pk=topic.pk).include_terms == "protein"  # nothing saved while typing
