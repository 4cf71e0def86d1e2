"""The send path renders each distinct digest once and fills in each reader's address and links:
every reader must still get exactly the email the templates give for them alone."""

from email import message_from_bytes, policy

import pytest

from newsletter import render
from newsletter.models import Delivery
from newsletter.ranking import Ranked
from newsletter.render import build_digest, build_digest_one_by_one
from tests.newsletter.personas import a_day_of_papers, alice, reader, released_edition, video

pytestmark = pytest.mark.django_db


def parts(message) -> dict[str, str]:
    mime = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return {
        "subject": str(mime["Subject"]),
        "to": str(mime["To"]),
        "text": mime.get_body(("plain",)).get_content(),
        "html": mime.get_body(("html",)).get_content(),
        "list-unsubscribe": str(mime["List-Unsubscribe"]),
    }


def test_readers_of_the_same_papers_get_their_own_address_and_links_from_one_render(settings):
    settings.SITE_URL = "https://paperboy.example.test"
    papers = a_day_of_papers()
    edition = released_edition()
    items = [
        Ranked(papers["video"], 2.0, ("matches: Video (video generation)",)),
        Ranked(papers["llm"], 1.0, ("trending: 300 upvotes",)),
    ]
    readers = [alice(), reader("o'brien+news@example.test", [video()])]
    deliveries = [Delivery.objects.create(subscriber=r, edition=edition) for r in readers]
    render._rendered.clear()
    fast = [parts(build_digest(d, items, weekly=False)) for d in deliveries]
    assert len(render._rendered) == 1  # one render served both readers
    slow = [parts(build_digest_one_by_one(d, items, weekly=False)) for d in deliveries]
    for got, expected, r in zip(fast, slow, readers, strict=True):
        assert got["subject"] == expected["subject"]
        assert got["to"] == expected["to"] == r.email
        assert got["text"] == expected["text"]
        assert got["list-unsubscribe"] == expected["list-unsubscribe"]
        assert render.slot("email").split(".")[0] not in got["html"] + got["text"]
    # Same bytes for an ordinary address; an apostrophe is escaped either way, as &#x27; or '.
    assert fast[0]["html"] == slow[0]["html"]
    assert fast[1]["html"].replace("&#x27;", "'") == slow[1]["html"].replace("&#x27;", "'")
    assert "o&#x27;brien+news@example.test subscribed" in fast[1]["html"]
    assert readers[0].email not in fast[1]["html"] + fast[1]["text"]
    assert readers[1].email not in fast[0]["text"]


def test_a_changed_paper_is_rendered_again(settings):
    papers = a_day_of_papers()
    edition = released_edition()
    delivery = Delivery.objects.create(subscriber=alice(), edition=edition)
    item = Ranked(papers["video"], 2.0, ("matches: Video (video generation)",))
    assert "212 upvotes" in build_digest(delivery, [item], weekly=False).body
    papers["video"].upvotes = 250
    assert "250 upvotes" in build_digest(delivery, [item], weekly=False).body
