"""The welcome page's "rate a few papers" step in headless Chromium: axe-core at phone and desktop
widths, votes that train the reader's model, the skip link, and the same step without JavaScript
(the buttons are plain forms). Screenshots in test-artifacts/screenshots/."""

from datetime import date
from urllib.parse import urlsplit

import pytest

from subscribers import tokens
from subscribers.models import ReaderModel, Status, Vote
from tests.subscribers.helpers import make_paper, make_subscriber, make_topic
from tests.subscribers.test_browser import look

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2025, 3, 5)


@pytest.fixture
def carol():
    """Carol reads about video generation and has just signed up."""
    video = make_topic("video-gen", "video generation", name="Video generation")
    for n, (title, upvotes) in enumerate(
        [
            ("Video generation with long context memory", 120),
            ("Text-to-video diffusion at scale", 80),
            ("Video generation benchmarks that agree with people", 60),
            ("A humanoid robot learns to fold laundry", 200),
            ("Scaling reasoning in large language models", 150),
            ("Speculative decoding without a draft model", 40),
            ("Medical report generation from radiology images", 30),
            ("Real-time video generation on a phone", 25),
            ("A survey of GUI agents", 20),
            ("Sparse attention kernels for long prompts", 10),
        ],
        start=1,
    ):
        make_paper(f"2503.{n:05d}", title, upvotes, listed=DAY, ai_summary=f"One line about {title.lower()}.")
    return make_subscriber("carol@example.test", status=Status.PENDING, topics=[video])


def vote(page, title: str, button: str) -> None:
    """Press a paper's button; its accessible name also names the paper, for screen readers."""
    with page.expect_navigation():
        page.locator("li", has_text=title).get_by_role("button", name=button).click()


def test_a_new_reader_rates_a_few_papers_and_skips_the_rest(
    browser_page, live_server, send_now, carol, settings
):
    page = browser_page
    settings.SITE_URL = live_server.url
    page.goto(live_server.url + urlsplit(tokens.confirm_url(carol)).path)
    assert page.get_by_role("heading", name="Rate a few papers").is_visible()
    assert page.get_by_role("button", name="More like this").count() == 8
    look(page, "rating-01-welcome")

    vote(page, "Video generation with long context memory", "More like this")
    assert page.get_by_text("1 of 8 rated.").is_visible()
    vote(page, "A humanoid robot learns to fold laundry", "Less like this")
    assert page.get_by_text("2 of 8 rated.").is_visible()
    assert page.get_by_role("button", name="More like this").count() == 6
    assert page.locator("[aria-label='Papers you rated']").inner_text().count("✓") == 2
    look(page, "rating-02-two-rated")
    model = ReaderModel.objects.get(subscriber=carol)  # trained by the vote's task, at once
    assert model.votes_used == 2

    with page.expect_navigation():
        page.get_by_role("link", name="Skip rating: go to your preferences").click()
    assert page.get_by_role("heading", name="Your preferences").is_visible()
    learned = page.locator("#learned")
    assert "Video generation with long context memory" in learned.inner_text()
    assert "learned from 2 of them" in learned.inner_text()


def test_the_rating_step_works_without_javascript(browser_page, live_server, send_now, carol):
    context = browser_page.context.browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        carol.status = Status.ACTIVE
        carol.save()
        page.goto(live_server.url + urlsplit(tokens.manage_url(carol)).path + "rate/")
        vote(page, "Scaling reasoning in large language models", "More like this")
        assert page.get_by_text("1 of 8 rated.").is_visible()
        assert Vote.objects.get(subscriber=carol).paper.title == "Scaling reasoning in large language models"
    finally:
        context.close()
