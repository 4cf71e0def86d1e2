"""The landing page in headless Chromium: papers under the form, and the sign-up preview updating
in place with JavaScript and through the "Preview" button without it. axe-core on each state,
screenshots at phone and desktop widths in test-artifacts/screenshots/."""

from datetime import date

import pytest

from subscribers.default_topics import create_missing_topics
from subscribers.models import Subscriber, Topic
from tests.browser import DESKTOP, capture
from tests.subscribers.helpers import make_paper
from tests.subscribers.test_browser import look

pytestmark = pytest.mark.django_db(transaction=True)
DAY = date(2025, 3, 5)


@pytest.fixture
def listing():
    create_missing_topics(Topic)  # a transactional test before this one flushed them
    make_paper("2503.00001", "Scaling reasoning in large language models", 120, DAY,
               abstract="Large language models reason step by step on maths problems.")  # fmt: skip
    make_paper("2503.00002", "A humanoid robot learns to fold laundry", 40, DAY,
               abstract="A robot manipulation policy for deformable objects.")  # fmt: skip
    make_paper("2503.00003", "Speculative decoding for faster inference", 15, DAY,
               abstract="Speculative decoding speeds up large language model inference.")  # fmt: skip


def preview_text(page) -> str:
    return page.locator("#preview").inner_text()


def test_the_preview_updates_in_place_with_javascript(browser_page, live_server, listing):
    page = browser_page
    page.goto(live_server.url + "/")
    assert page.locator("#latest-title").inner_text() == "Top papers of the 5 March 2025 listing"
    assert page.locator(".latest li").count() == 3
    assert "Tick a topic or type keywords" in preview_text(page)
    look(page, "10-landing-with-papers")

    page.get_by_label("Your own keywords (optional)").fill("speculative decoding")
    page.wait_for_function(
        "() => document.querySelector('#preview').innerText.includes('Speculative decoding')"
    )
    assert "A humanoid robot" not in preview_text(page)
    assert page.url == live_server.url + "/"  # no navigation: swapped in place
    page.get_by_label("Robotics").check()
    page.wait_for_function("() => document.querySelector('#preview').innerText.includes('humanoid robot')")
    look(page, "11-landing-preview-live")
    assert not Subscriber.objects.exists()


def test_the_preview_button_works_without_javascript(browser_page, live_server, listing):
    context = browser_page.context.browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.get_by_label("Your own keywords (optional)").fill("speculative decoding")
        page.get_by_label("Robotics").check()
        page.get_by_role("button", name="Preview my digest first").click()
        page.wait_for_load_state()
        assert "Speculative decoding for faster inference" in preview_text(page)
        assert "humanoid robot" in preview_text(page)
        # The choices are kept, and nothing was asked to be fixed: the visitor only previewed.
        assert page.get_by_label("Robotics").is_checked()
        assert page.get_by_label("Your own keywords (optional)").input_value() == "speculative decoding"
        assert page.get_by_text("Please fix the fields").count() == 0
        capture(page, "12-landing-preview-no-js")
    finally:
        context.close()
    # The same page, checked by axe-core (which needs JavaScript to run).
    browser_page.goto(live_server.url + "/")
    browser_page.get_by_label("Robotics").check()
    browser_page.get_by_role("button", name="Preview my digest first").click()
    browser_page.wait_for_load_state()
    look(browser_page, "13-landing-preview-posted")
    assert not Subscriber.objects.exists()
