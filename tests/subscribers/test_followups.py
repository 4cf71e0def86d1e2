import pytest

from subscribers.feedback import record_vote
from subscribers.followups import mark_told, news_for
from subscribers.models import Vote
from tests.subscribers.helpers import make_paper, make_subscriber

pytestmark = pytest.mark.django_db


def test_news_on_a_liked_paper_is_told_once(django_assert_num_queries):
    alice = make_subscriber("alice@example.test")
    paper = make_paper("2503.00001", "Great Paper", upvotes=20)
    record_vote(alice, paper, 1)
    assert news_for([alice.pk]) == {}
    paper.github_repo, paper.upvotes = "https://github.com/example/great", 150
    paper.save()
    with django_assert_num_queries(1):
        news = news_for([alice.pk])
    [(vote, item)] = news[alice.pk]
    assert item.what == "code released, upvotes 20 → 150"
    mark_told([vote])
    assert news_for([alice.pk]) == {}


def test_small_upvote_changes_disliked_papers_and_other_readers_are_not_news():
    alice, bob = make_subscriber("alice@example.test"), make_subscriber("bob@example.test")
    liked, disliked = (
        make_paper("2503.00001", "Liked", upvotes=100),
        make_paper("2503.00002", "Disliked", upvotes=1),
    )
    record_vote(alice, liked, 1)
    record_vote(alice, disliked, -1)
    Vote.objects.filter(paper=liked).update(seen_upvotes=100)
    liked.upvotes = 160  # +60 but not doubled
    liked.save()
    disliked.github_repo = "https://github.com/example/x"
    disliked.save()
    assert news_for([alice.pk, bob.pk]) == {}
