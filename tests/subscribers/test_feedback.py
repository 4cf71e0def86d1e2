import json
from urllib.parse import urlsplit

import pytest

from subscribers.models import ReaderModel, Vote
from subscribers.reader_model import retrain
from subscribers.tokens import FEEDBACK, MANAGE, feedback_urls, make_token, sign
from tests.subscribers.helpers import make_paper, make_subscriber, make_topic

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def alice():
    return make_subscriber("alice@example.test", topics=[make_topic("my-video", "video generation")])


@pytest.fixture
def paper():
    return make_paper("2503.00001", "Video Generation with Diffusion", 50)


def test_opening_a_feedback_link_records_nothing(client, alice, paper):
    page = client.get(path_of(feedback_urls(alice, paper.pk)[0]))
    assert page.status_code == 200
    assert "More like this?" in page.text
    assert Vote.objects.count() == 0  # a mail scanner following the link votes for nobody


def test_a_vote_is_recorded_on_post_changed_and_taken_back(
    client, alice, paper, django_capture_on_commit_callbacks
):
    url = path_of(feedback_urls(alice, paper.pk)[0])
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.post(url, {"vote": "more"})
    assert "Noted: more like this" in page.text
    assert Vote.objects.get(subscriber=alice, paper=paper).value == 1
    assert len(callbacks) == 1  # retraining is enqueued after commit
    client.post(url, {"vote": "less"})
    assert Vote.objects.get().value == -1
    client.post(url, {"vote": "undo"})
    assert not Vote.objects.exists()


def test_a_bad_feedback_link_or_choice_gets_a_clear_answer(client, alice, paper):
    assert client.get("/feedback/garbage/").status_code == 400
    assert client.post(path_of(feedback_urls(alice, paper.pk)[0]), {"vote": "maybe"}).status_code == 400
    paper.delete()
    assert client.get(path_of(feedback_urls(alice, 999)[0])).status_code == 400


def test_a_link_names_its_paper_and_one_signed_before_that_still_works(client, alice, paper):
    url = path_of(feedback_urls(alice, paper.pk)[0])
    token = url.split("/")[2]
    for query in ("", "?paper=", "?paper=x1", "?paper=" + "9" * 19, "?paper=%D9%A3"):
        assert client.post(f"/feedback/{token}/{query}", {"vote": "more"}).status_code == 400, query
    assert not Vote.objects.exists()
    # A link from a digest sent before one token served every paper: the paper is in the token.
    older = sign({"s": alice.public_id.hex, "p": paper.pk}, FEEDBACK.salt)
    assert client.post(f"/feedback/{older}/?vote=less", {"vote": "less"}).status_code == 200
    assert Vote.objects.get(subscriber=alice, paper=paper).value == -1


def test_the_preference_centre_shows_votes_and_erases_them(client, alice, paper):
    other = make_paper("2503.00002", "Another Paper", 5)
    Vote.objects.create(subscriber=alice, paper=paper, value=1)
    Vote.objects.create(subscriber=alice, paper=other, value=-1)
    token = make_token(MANAGE, alice)
    page = client.get(f"/manage/{token}/")
    assert "What Paperboy knows about you" in page.text
    assert "More like" in page.text and "Video Generation with Diffusion" in page.text
    client.post(f"/manage/{token}/votes/", {"paper": paper.pk})
    assert list(Vote.objects.values_list("paper__arxiv_id", flat=True)) == ["2503.00002"]
    client.post(f"/manage/{token}/votes/", {"forget": "all"})
    assert not Vote.objects.exists()


def test_votes_are_exported_and_erased_with_the_rest(client, alice, paper):
    Vote.objects.create(subscriber=alice, paper=paper, value=1)
    token = make_token(MANAGE, alice)
    exported = json.loads(client.get(f"/manage/{token}/export/").content)
    assert exported["votes"][0]["paper"] == "2503.00001" and exported["votes"][0]["vote"] == "more"
    client.post(f"/manage/{token}/delete/")
    assert not Vote.objects.exists()


def test_retraining_learns_what_the_reader_liked(alice):
    liked = [make_paper(f"2503.1000{i}", f"Speculative decoding trick {i}", 5) for i in range(3)]
    disliked = [make_paper(f"2503.2000{i}", f"Video world model {i}", 5) for i in range(3)]
    for p in liked:
        Vote.objects.create(subscriber=alice, paper=p, value=1)
    for p in disliked:
        Vote.objects.create(subscriber=alice, paper=p, value=-1)
    learned = retrain(alice)
    assert learned.votes == 6
    assert learned.weights["specul"] > 0 > learned.weights["world"]
    assert ReaderModel.objects.get(subscriber=alice).votes_used == 6
