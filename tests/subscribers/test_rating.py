"""Rating a few papers at sign-up: which papers are asked about, and the page that asks."""

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from subscribers import tokens
from subscribers.learning import Learned
from subscribers.models import ReaderModel, Vote
from subscribers.rating import RATE_COUNT, TOPIC_PICKS, choose_papers_to_rate, rating_step
from subscribers.tokens import MANAGE, make_token
from tests.subscribers.helpers import make_paper, make_subscriber, make_topic

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 5)
# Words no other paper shares, so no two test papers look like near-duplicates.
FILLER = "alpha beta gamma delta epsilon zeta theta iota kappa lambda omicron sigma tau upsilon phi chi psi"


def paper(n: int, title: str, upvotes: int = 10, listed: date = DAY):
    words = " ".join(f"{w}{n}" for w in FILLER.split())
    return make_paper(f"2503.{n:05d}", title, upvotes, listed=listed, abstract=words)


@pytest.fixture
def video(no_default_topics):
    return make_topic("my-video", "video generation")


@pytest.fixture
def alice(video):
    """Alice reads about video generation."""
    return make_subscriber("alice@example.test", topics=[video])


@pytest.fixture
def week():
    """Five papers on video generation (most upvoted last) and seven on other things."""
    on_topic = [paper(i, f"Video generation study {i}", upvotes=10 + i) for i in range(1, 6)]
    others = [paper(i, f"Robot arm grasping study {i}", upvotes=100 + i) for i in range(6, 13)]
    return on_topic, others


def test_topic_picks_come_first_then_the_papers_the_model_is_least_sure_of(video, week):
    on_topic, others = week
    # Sure of the robot papers but one: 0.5 for the paper with "unsure", near 0 for the others.
    learned = Learned({"robot": -6.0, "unsur": 6.0}, bias=0.0, votes=4)
    unsure = paper(20, "Robot arm grasping, but unsure", upvotes=1)
    chosen = choose_papers_to_rate([*on_topic, *others, unsure], [video], learned=learned)
    picked = [c.paper for c in chosen]
    assert picked[:TOPIC_PICKS] == sorted(on_topic, key=lambda p: -p.upvotes)[:TOPIC_PICKS]
    assert all("matches your topics: My-Video" in c.reason for c in chosen[:TOPIC_PICKS])
    assert picked[TOPIC_PICKS] == on_topic[0]  # video-only words: the model has no opinion (0.5)
    assert picked[TOPIC_PICKS + 1] == unsure  # robot (-6) + unsure (+6): 0.5 as well
    assert chosen[TOPIC_PICKS].reason == "Paperboy is unsure about this one"
    assert len(chosen) == RATE_COUNT


def test_it_never_offers_a_paper_already_rated_or_sent_and_at_most_eight(video, week):
    on_topic, others = week
    everything = on_topic + others
    rated, sent = {on_topic[4].pk, others[0].pk}, {on_topic[3].pk}
    chosen = choose_papers_to_rate(everything, [video], rated=rated, exclude=sent)
    ids = {c.paper.pk for c in chosen}
    assert len(chosen) == RATE_COUNT < len(everything) - 3
    assert not ids & (rated | sent)
    # Two papers rated already: two topic picks left to ask before the model's turn.
    assert [c.paper for c in chosen[:2]] == [on_topic[2], on_topic[1]]
    assert choose_papers_to_rate(everything, [video], count=0) == []


def test_before_any_model_it_asks_about_on_topic_papers_unlike_those_asked(video):
    first = paper(1, "Video generation at scale", upvotes=50)
    twin = make_paper(
        "2503.00002", "Video generation at scale, again", 40, listed=DAY, abstract=first.abstract
    )
    other = paper(3, "Video generation for cartoons", upvotes=5)
    off = paper(4, "Robot arm grasping", upvotes=500)
    chosen = [c.paper for c in choose_papers_to_rate([first, twin, other, off], [video], count=3)]
    # The twin shares nearly every word with the first: asked about last, after the off-topic one.
    assert chosen == [first, other, off]


def test_a_reader_with_no_topics_is_asked_about_popular_papers(no_default_topics):
    papers = [paper(i, f"Paper number {i}", upvotes=i * 10) for i in range(1, 12)]
    chosen = choose_papers_to_rate(papers, [])
    assert len(chosen) == RATE_COUNT
    assert [c.paper for c in chosen[:TOPIC_PICKS]] == papers[::-1][:TOPIC_PICKS]
    assert chosen[0].reason == "popular: 110 upvotes"


def test_keywords_pick_papers_too(no_default_topics):
    papers = [
        paper(1, "Speculative decoding made fast", upvotes=1),
        paper(2, "Something popular", upvotes=99),
    ]
    chosen = choose_papers_to_rate(papers, [], keywords=["speculative decoding"], count=1)
    assert chosen[0].paper == papers[0]
    assert chosen[0].reason == "matches your keywords: speculative decoding"


def test_the_step_asks_about_the_last_week_of_listings_only(alice, week):
    old = paper(30, "Video generation, long ago", upvotes=999, listed=DAY - timedelta(days=8))
    step = rating_step(alice)
    assert old not in [c.paper for c in step.to_rate]
    assert len(step.to_rate) == RATE_COUNT and not step.rated


def rate_url(subscriber) -> str:
    return f"/manage/{make_token(MANAGE, subscriber)}/rate/"


def test_the_rating_page_shows_buttons_and_a_get_votes_for_nobody(client, alice, week):
    page = client.get(rate_url(alice))
    assert page.status_code == 200
    assert page.text.count('name="vote" value="more"') == RATE_COUNT
    assert page.text.count('name="vote" value="less"') == RATE_COUNT
    assert "Video generation study 5" in page.text
    assert "Skip rating: go to your preferences" in page.text
    # The skip link: the reader's own preferences (its signature carries the second it was made).
    skip = re.search(r'href="([^"]*/manage/([^"/]+)/)"', page.text)
    assert skip and skip.group(1) == tokens.token_url("subscribers:manage", skip.group(2))
    assert tokens.read_token(MANAGE, skip.group(2)) == alice
    assert not Vote.objects.exists()


def test_a_vote_is_a_post_and_trains_the_model_at_once(
    client, alice, week, send_now, django_capture_on_commit_callbacks
):
    on_topic, others = week
    url = rate_url(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"paper": on_topic[4].pk, "vote": "more"})
    assert response.status_code == 302 and response["Location"] == url + "#rate"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"paper": others[0].pk, "vote": "less"})
    model = ReaderModel.objects.get(subscriber=alice)
    assert model.votes_used == 2
    weights_before = dict(model.weights)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"paper": on_topic[3].pk, "vote": "more"})
    model.refresh_from_db()
    assert model.votes_used == 3 and model.weights != weights_before

    page = client.get(url)
    assert "3 of 8 rated" in page.text
    assert page.text.count('value="more"') == RATE_COUNT - 3  # the rest, never a rated one again
    assert "✓ More like" in page.text and "✓ Less like" in page.text
    centre = client.get(f"/manage/{make_token(MANAGE, alice)}/")
    assert "What Paperboy knows about you" in centre.text
    assert "Video generation study 5" in centre.text and "learned from 3 of them" in centre.text


def test_after_eight_votes_the_page_thanks_the_reader(client, alice, week):
    url = rate_url(alice)
    for item in rating_step(alice).to_rate:
        client.post(url, {"paper": item.paper.pk, "vote": "less"})
    page = client.get(url)
    assert "Paperboy learned from your 8 answers" in page.text
    assert 'value="more"' not in page.text


def test_bad_votes_and_bad_tokens_get_clear_answers(client, alice, week):
    url = rate_url(alice)
    paper_id = week[0][0].pk
    assert client.post(url, {"paper": paper_id, "vote": "maybe"}).status_code == 400
    assert client.post(url, {"paper": "nope", "vote": "more"}).status_code == 400
    assert client.put(url).status_code == 405
    page = client.get("/manage/garbage/rate/")
    assert page.status_code == 400 and "This link doesn’t work" in page.text  # noqa: RUF001
    assert client.post("/manage/garbage/rate/", {"paper": paper_id, "vote": "more"}).status_code == 400
    assert not Vote.objects.exists()


def test_votes_need_the_csrf_token_of_our_own_page(alice, week):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(rate_url(alice), {"paper": week[0][0].pk, "vote": "more"}).status_code == 403
    page = strict.get(rate_url(alice))
    csrf = page.context["csrf_token"]
    answer = strict.post(
        rate_url(alice), {"paper": week[0][0].pk, "vote": "more", "csrfmiddlewaretoken": str(csrf)}
    )
    assert answer.status_code == 302 and Vote.objects.filter(subscriber=alice).count() == 1


def test_the_welcome_page_offers_the_rating_step_and_a_skip(client, week, video):
    bob = make_subscriber("bob@example.test", status="pending", topics=[video])
    page = client.get(urlsplit(tokens.confirm_url(bob)).path)
    assert "You’re subscribed" in page.text  # noqa: RUF001
    assert "Rate a few papers" in page.text
    assert page.text.count('name="vote" value="more"') == RATE_COUNT
    skip = page.text.split("Skip rating")[0].rsplit('href="', 1)[1].split('"')[0]
    assert "/manage/" in skip
    assert client.get(urlsplit(skip).path).status_code == 200
