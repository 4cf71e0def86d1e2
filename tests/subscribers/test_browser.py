"""A reader's whole journey in headless Chromium: sign up, read the confirmation from a real SMTP
server (sent by a real Celery worker), confirm, change preferences, unsubscribe; axe-core on every
page and screenshots at phone and desktop widths in test-artifacts/screenshots/."""

import re
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from subscribers import tokens
from subscribers.default_topics import create_missing_topics
from subscribers.models import Status, Subscriber, Topic
from tests.browser import axe_violations, capture
from tests.services import wait_for
from tests.subscribers.helpers import make_paper

pytestmark = pytest.mark.django_db(transaction=True)


def look(page, name: str) -> None:
    """Every page: no serious or critical accessibility violation, and its screenshots."""
    assert axe_violations(page) == [], name
    capture(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == [], f"{name} (phone)"
    # Nothing may be wider than a phone: no sideways scrolling.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


def text_link(message, fragment: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return next(link for link in re.findall(r"https?://\S+", body) if fragment in link)


def test_a_reader_signs_up_confirms_tunes_and_unsubscribes(browser_page, smtp_server, live_server, settings):
    page = browser_page
    settings.SITE_URL = live_server.url
    settings.SUBSCRIBERS_MIN_FILL_SECONDS = 0  # the bot-timing trap has its own client tests
    # A transactional test before this one flushed the migrated rows.
    create_missing_topics(Topic)
    day = date(2025, 3, 5)
    make_paper("2503.00001", "Scaling reasoning in large language models", upvotes=120, listed=day)
    make_paper("2503.00002", "A humanoid robot learns to fold laundry", upvotes=40, listed=day)
    make_paper("2503.00003", "Text-to-speech for every language", upvotes=15, listed=day)

    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        page.goto(live_server.url + "/")
        # The browser's time zone is pre-selected by the page's script once the form is touched
        # (not at load: the first Intl call is a long task on a phone).
        assert page.locator("input[name=time_zone]").input_value() == "UTC"
        page.get_by_label("Email address").focus()
        assert page.locator("input[name=time_zone]").input_value() == "Europe/Berlin"
        # The box suggests the browser's zone names once focused (a datalist, filled then).
        page.get_by_label("Time zone").focus()
        assert page.locator("#time-zone-names option").count() > 300
        look(page, "01-landing")

        page.get_by_role("button", name="Subscribe").click()
        assert page.get_by_text("Please fix the fields marked below.").is_visible()
        look(page, "02-landing-errors")

        page.get_by_label("Email address").fill("reader@example.test")
        page.get_by_label("Large language models").check()
        page.get_by_label("Reasoning").check()
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url("**/subscribe/check-inbox/")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
        look(page, "03-check-inbox")

        message = wait_for(lambda: smtp_server.to("reader@example.test"))[0]
        assert message["Subject"] == "Confirm your Paperboy subscription"
        reader = Subscriber.objects.get(email="reader@example.test")
        assert reader.status == Status.PENDING and reader.time_zone == "Europe/Berlin"
        assert reader.consent_user_agent and "Chrome" in reader.consent_user_agent

        page.goto(text_link(message, "/confirm/"))
        assert page.get_by_role("heading", name="You’re subscribed").is_visible()  # noqa: RUF001
        look(page, "04-welcome")
        reader.refresh_from_db()
        assert reader.status == Status.ACTIVE

        page.get_by_role("link", name="Fine-tune your preferences").click()
        assert page.get_by_role("heading", name="Your preferences").is_visible()
        preview = page.locator(".preview")
        assert "Scaling reasoning in large language models" in preview.inner_text()
        look(page, "05-manage")

        page.get_by_label("Robotics and embodied AI").check()
        page.get_by_label("Your own keywords").fill("text-to-speech, world model")
        page.get_by_label("Weekly", exact=True).check()
        page.get_by_label("Weekly on").select_option(label="Friday")
        page.get_by_label("At most this many papers per digest").fill("5")
        page.get_by_role("button", name="Save preferences").click()
        assert page.get_by_text("Saved. Your next digest follows these choices.").is_visible()
        assert "A humanoid robot learns to fold laundry" in page.locator(".preview").inner_text()
        look(page, "06-manage-saved")
        reader.refresh_from_db()
        assert reader.frequency == "weekly" and reader.weekday == 4 and reader.max_papers == 5
        assert reader.keywords == ["text-to-speech", "world model"]
        assert {t.slug for t in reader.topics.all()} == {"llms", "reasoning", "robotics"}

        page.get_by_role("link", name="Delete my data").click()
        look(page, "07-delete-confirm")
        page.get_by_role("link", name="Keep it").click()

        page.goto(live_server.url + "/unsubscribe/" + tokens.make_token(tokens.UNSUBSCRIBE, reader) + "/")
        reader.refresh_from_db()
        assert reader.status == Status.ACTIVE  # opening the link only asks
        look(page, "08-unsubscribe-confirm")
        page.get_by_role("button", name="Unsubscribe").click()
        assert page.get_by_role("heading", name="You’re unsubscribed").is_visible()  # noqa: RUF001
        look(page, "09-unsubscribed")
        reader.refresh_from_db()
        assert reader.status == Status.UNSUBSCRIBED

        page.goto(live_server.url + "/manage/")
        look(page, "10-manage-request")
        page.get_by_label("Email address").fill("reader@example.test")
        page.get_by_role("button", name="Email me my link").click()
        page.wait_for_url("**/manage/sent/")
        look(page, "11-manage-sent")
        link_message = wait_for(
            lambda: [m for m in smtp_server.to("reader@example.test") if "preferences" in m["Subject"]]
        )[0]
        page.goto(text_link(link_message, "/manage/"))
        assert page.get_by_role("button", name="Subscribe again").is_visible()
        look(page, "12-manage-unsubscribed")

        page.goto(live_server.url + "/confirm/not-a-token/")
        look(page, "13-bad-link")
