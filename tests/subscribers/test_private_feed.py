import time
from urllib.parse import urlsplit

import pytest
import time_machine

from subscribers.models import Vote
from subscribers.tokens import MANAGE, feed_url, make_token
from tests.newsletter.personas import a_day_of_papers, alice, released_edition

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_a_reader_makes_a_private_feed_of_their_picks_and_can_revoke_it(client):
    reader = alice()
    a_day_of_papers()
    released_edition()
    manage = f"/manage/{make_token(MANAGE, reader)}/"
    assert "Make my feed link" in client.get(manage).text
    client.post(f"{manage}feed/", {"feed": "new"})
    reader.refresh_from_db()
    # The link's signature carries the second it was made: the page's and this one must match.
    with time_machine.travel(time.time(), tick=False):
        link = feed_url(reader)
        assert link in client.get(manage).text
    feed = client.get(path_of(link))
    assert feed["Content-Type"].startswith("application/atom+xml")
    # Alice's picks (video, diffusion), with why; not the papers off her topics.
    assert feed.text.count("<entry>") == 2
    assert "Text-to-Video Generation with Diffusion Models" in feed.text
    assert "Why: matches:" in feed.text
    assert "Scaling Laws" not in feed.text

    client.post(f"{manage}feed/", {"feed": "revoke"})
    assert client.get(path_of(link)).status_code == 404


def test_a_new_link_revokes_the_old_one(client):
    reader = alice()
    manage = f"/manage/{make_token(MANAGE, reader)}/"
    client.post(f"{manage}feed/", {"feed": "new"})
    reader.refresh_from_db()
    old = feed_url(reader)
    client.post(f"{manage}feed/", {"feed": "new"})
    reader.refresh_from_db()
    assert client.get(path_of(old)).status_code == 404
    assert client.get(path_of(feed_url(reader))).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "e30:1tZxyz:abc"])
def test_a_bad_feed_link_is_not_found(client, token):
    assert client.get(f"/feed/{token}/").status_code == 404


def test_the_feed_learns_too(client):
    reader = alice()
    papers = a_day_of_papers()
    released_edition()
    Vote.objects.create(subscriber=reader, paper=papers["video"], value=1)
    client.post(f"/manage/{make_token(MANAGE, reader)}/feed/", {"feed": "new"})
    reader.refresh_from_db()
    assert client.get(path_of(feed_url(reader))).status_code == 200
