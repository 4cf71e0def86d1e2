"""Hostile text in paper titles, abstracts, author names, topic names, the curator note and a
reader's own keywords comes out as text in every page, email and admin view: never as markup."""

import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.security.admin_pages import add_console_rows, fetch_admin_pages
from tests.security.site import build_site, every_email, public_pages, send_every_email

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_now")]

# Short enough for a topic name (80 characters) with its real words in front.
XSS = """<script>alert("pb-xss")</script><svg onload=alert(1)>'&"""


def assert_inert(html: str, where: str) -> None:
    """No element, attribute or URL the payload could have created."""
    soup = BeautifulSoup(html, "html.parser")
    for script in soup.find_all("script"):
        assert "pb-xss" not in script.get_text(), f"{where}: injected <script>"
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            assert not (name.startswith("on") and "alert(" in value), f"{where}: injected {name}="
            assert not value.strip().lower().startswith("javascript:"), f"{where}: javascript: URL"
    assert "<script>alert(" not in html and "<svg onload" not in html, where


def shows_payload_as_text(html: str) -> bool:
    """The payload is on screen as text (also in JSON fields' text, where its quotes are escaped)."""
    text = BeautifulSoup(html, "html.parser").get_text()
    return XSS[:40] in text or json.dumps(XSS)[1:41] in text


@pytest.fixture
def hostile_site(db):
    return build_site(XSS)


def test_every_public_page_shows_the_payload_as_text(client, hostile_site):
    pages = public_pages(client, hostile_site)
    for name, (status, _path, html) in pages.items():
        assert status < 500, name
        assert_inert(html, name)
    for name in ["home", "manage", "archive-edition", "view-in-browser"]:
        assert shows_payload_as_text(pages[name][2]), f"{name} did not show the hostile text at all"


def test_the_digest_email_escapes_every_field(hostile_site):
    digest = hostile_site.digest
    html = digest.alternatives[0][0]
    assert_inert(html, "digest email")
    text = BeautifulSoup(html, "html.parser").get_text()
    for field in ["A Vision Transformer", "We segment images", "Ada Lovelace", "Computer vision"]:
        # The field and the payload after it, both shown as the words they are.
        assert re.search(re.escape(field) + r".{0,40}" + re.escape(XSS[:20]), text, re.S), field
    assert "\n" not in digest.subject and "\r" not in digest.subject


def test_every_other_email_escapes_what_it_shows(client, hostile_site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_every_email(client, hostile_site)
    emails = every_email(hostile_site)
    assert len(emails) >= 5, list(emails)
    for subject, html in emails.items():
        assert_inert(html, subject)


def test_the_feed_carries_the_payload_as_escaped_text(client, hostile_site):
    feed = client.get("/archive/feed/").content.decode()
    assert "<script>" not in feed and "&lt;script&gt;" in feed


# Admin pages that must show the hostile text, as text: the fields it is in, our own columns,
# read-only blocks (papers of the day, papers sent), charts and previews, the recent actions.
SHOWN_IN_ADMIN = [
    "index",
    "admin-dashboard",
    "papers_paper_changelist",
    "papers_paper_change",
    "papers_paper_history",
    "papers_scraperun_change",
    "subscribers_topic_changelist",
    "subscribers_topic_change",
    "subscribers_subscriber_change",
    "newsletter_edition_change",
    "newsletter_edition_preview",
    "newsletter_edition_preview_html",
    "newsletter_delivery_change",
    "newsletter_deliveryevent_change",
]


def test_every_admin_page_escapes_hostile_text(client, hostile_site):
    pages = fetch_admin_pages(client, add_console_rows(hostile_site, XSS))
    assert len(pages) >= 50, sorted(pages)
    for name, page in pages.items():
        assert page.status in (200, 403, 429), (name, page.status)
        assert_inert(page.html, name)
    hidden = [name for name in SHOWN_IN_ADMIN if not shows_payload_as_text(pages[name].html)]
    assert hidden == [], "these admin pages did not show the hostile text at all"
