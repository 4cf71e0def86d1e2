import re

import pytest
from django.core import signing

from newsletter.models import Delivery, Edition
from newsletter.sending.context import VIEW_SALT, view_url
from tests.newsletter.personas import a_day_of_papers, alice, released_edition
from tests.newsletter.test_delivery import tick, utc

pytestmark = pytest.mark.django_db


def sent_edition(note: str = "") -> Edition:
    papers = a_day_of_papers()
    edition = released_edition()
    edition.curator_note = note
    edition.status = Edition.Status.SENT
    edition.save()
    edition.picks.add(papers["diffusion"])
    return edition


def test_the_archive_lists_sent_editions_and_shows_each_publicly(client):
    sent_edition("A big day for <b>video</b>.")
    index = client.get("/archive/")
    assert "Wednesday 4 March 2026" in index.text
    page = client.get("/archive/2026-03-04/")
    assert page.status_code == 200
    assert "A big day for &lt;b&gt;video&lt;/b&gt;." in page.text
    # The editor's pick first, then the most upvoted.
    assert page.text.index("A Diffusion Model for Weather") < page.text.index(
        "Scaling Laws for Language Models"
    )
    assert "editor&#x27;s pick" in page.text


def test_unsent_editions_and_bad_dates_are_not_found(client):
    a_day_of_papers()
    released_edition()  # scheduled, not sent yet
    assert client.get("/archive/2026-03-04/").status_code == 404
    assert client.get("/archive/2026-02-30/").status_code == 404
    assert client.get("/archive/not-a-date/").status_code == 404


def test_the_feed_is_atom_with_one_entry_per_edition(client):
    sent_edition("Note")
    feed = client.get("/archive/feed/")
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert feed.text.count("<entry>") == 1
    assert "/archive/2026-03-04/" in feed.text


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_view_in_browser_shows_exactly_what_the_reader_got(client, smtp_server):
    alice()
    a_day_of_papers()
    released_edition(at=utc(2026, 3, 4, 20))
    tick(utc(2026, 3, 5, 7))
    delivery = Delivery.objects.get()
    # The link the reader got (its signature's timestamp is the send's second, not this one's).
    [token] = re.findall(r"http://127\.0\.0\.1:8000/digest/([^/\s]+)/", text_of(smtp_server.messages[0]))
    assert signing.loads(token, salt=VIEW_SALT) == {"d": delivery.pk}
    page = client.get(f"/digest/{token}/")
    assert page.status_code == 200
    assert "Text-to-Video Generation with Diffusion Models" in page.text
    assert "Scaling Laws" not in page.text
    assert page["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize(
    "token", ["garbage", signing.dumps({"d": 999999}, salt=VIEW_SALT), signing.dumps({"d": 1})]
)
def test_a_bad_view_link_gets_a_polite_page(client, token):
    page = client.get(f"/digest/{token}/")
    assert page.status_code == 404
    assert "This digest is not available" in page.text


def test_view_in_browser_offers_more_and_less_like_this(client, smtp_server):
    alice()
    a_day_of_papers()
    released_edition(at=utc(2026, 3, 4, 20))
    tick(utc(2026, 3, 5, 7))
    page = client.get(view_url(Delivery.objects.get()).removeprefix("http://127.0.0.1:8000"))
    assert page.text.count(">More like this</a>") == 2
    assert len(re.findall(r'href="[^"]*/feedback/[^/"]+/\?paper=\d+&amp;vote=less"', page.text)) == 2
