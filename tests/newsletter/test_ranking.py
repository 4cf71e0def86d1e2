from datetime import timedelta

import pytest

from newsletter.models import SentPaper
from newsletter.ranking.rank import candidates_of, profile_of, rank
from newsletter.sending.editions import editions_of_week, refresh_scores
from papers.models import Paper
from tests.newsletter.personas import DAY, a_day_of_papers, alice, bob, carol, paper, released_edition

pytestmark = pytest.mark.django_db


def digest_for(subscriber, editions, sent=()):
    papers = Paper.objects.in_bulk()
    return rank(profile_of(subscriber, subscriber.topics.all()), candidates_of(editions, papers), set(sent))


def titles(ranked):
    return [r.paper.title for r in ranked]


def test_it_ranks_papers_matching_the_readers_topics_with_reasons():
    reader = alice()
    a_day_of_papers()
    digest = digest_for(reader, [released_edition()])
    assert titles(digest) == [
        "Text-to-Video Generation with Diffusion Models",
        "A Diffusion Model for Weather",
    ]
    # Two topics beat one; "diffusion model" matches the topic term "diffusion models".
    assert digest[0].reasons == (
        "matches: Diffusion, Video (diffusion models, text-to-video, video generation)",
    )
    assert digest[1].reasons == ("matches: Diffusion (diffusion models)",)


def test_exclude_terms_win_over_topics():
    reader = bob()
    a_day_of_papers()
    assert titles(digest_for(reader, [released_edition()])) == ["Embodied Robot Learning at Scale"]


def test_it_never_sends_a_paper_twice():
    reader = alice()
    papers = a_day_of_papers()
    digest = digest_for(reader, [released_edition()], sent={papers["video"].pk})
    assert titles(digest) == ["A Diffusion Model for Weather"]


def test_it_respects_max_papers_and_minimum_upvotes():
    reader = alice(max_papers=1)
    a_day_of_papers()
    assert titles(digest_for(reader, [released_edition()])) == [
        "Text-to-Video Generation with Diffusion Models"
    ]
    reader.max_papers, reader.min_upvotes = 10, 100
    assert titles(digest_for(reader, [released_edition()])) == [
        "Text-to-Video Generation with Diffusion Models"
    ]


def test_nothing_matching_means_no_digest_unless_trending_was_asked_for():
    reader = bob(excluded_keywords=["robot"])
    a_day_of_papers()
    edition = released_edition()
    assert digest_for(reader, [edition]) == []
    reader.include_trending = True
    digest = digest_for(reader, [edition])
    assert [r.reasons for r in digest] == [
        ("trending: 300 upvotes",),
        ("trending: 212 upvotes",),
        ("trending: 40 upvotes",),
    ]


def test_followed_authors_and_editors_picks_come_first_with_their_reason():
    reader = carol(include_trending=False)
    papers = a_day_of_papers()
    edition = released_edition()
    edition.picks.add(papers["llm"])
    refresh_scores(edition)
    digest = digest_for(reader, [edition])
    assert titles(digest) == ["Scaling Laws for Language Models", "World Models"]
    assert digest[0].reasons == ("editor's pick",)
    assert digest[1].reasons == ("by Yann LeCun, whom you follow",)


def test_a_paper_hidden_by_a_curator_is_never_ranked():
    reader = alice()
    papers = a_day_of_papers()
    edition = released_edition()
    edition.hidden.add(papers["video"])
    assert titles(digest_for(reader, [edition])) == ["A Diffusion Model for Weather"]


def test_own_keywords_count_and_say_so():
    reader = alice(keywords=["weather"])
    a_day_of_papers()
    digest = digest_for(reader, [released_edition()])
    assert titles(digest)[0] == "A Diffusion Model for Weather"
    assert "your keywords: weather" in digest[0].reasons


def test_a_weekly_reader_gets_the_weeks_best():
    reader = carol(include_trending=False, followed_authors=["Grace Hopper"])
    paper("2603.00001", "Compilers by Grace Hopper", 3, DAY - timedelta(days=2), authors=["Grace Hopper"])
    paper("2603.00002", "More Compilers", 9, DAY, authors=["Grace Hopper"])
    released_edition(DAY - timedelta(days=2))
    week = editions_of_week(released_edition(DAY))
    assert titles(digest_for(reader, week)) == ["More Compilers", "Compilers by Grace Hopper"]


def test_a_sent_paper_is_remembered_across_editions():
    reader = alice()
    papers = a_day_of_papers()
    edition = released_edition()
    from newsletter.models import Delivery

    delivery = Delivery.objects.create(subscriber=reader, edition=edition)
    SentPaper.objects.create(subscriber=reader, paper=papers["diffusion"], delivery=delivery)
    assert "A Diffusion Model for Weather" not in titles(
        digest_for(reader, [edition], sent={papers["diffusion"].pk})
    )


def test_a_learned_reader_gets_papers_like_the_ones_they_liked_and_is_told_why():
    from newsletter.ranking.rank import candidates_of, profile_of, rank
    from subscribers.learning import document_stems, train

    reader = bob(excluded_keywords=[])  # Robotics only
    a_day_of_papers()
    liked = [
        "Weather forecasting with diffusion",
        "Global weather model",
        "Weather nowcasting",
        "Climate and weather",
    ]
    disliked = [
        "Robot simulation",
        "Simulation for robots",
        "Language models at scale",
        "Scaling language models",
    ]
    learned = train(liked=[document_stems(t) for t in liked], disliked=[document_stems(t) for t in disliked])
    examples = (("Global weather model", document_stems("Global weather model")),)
    learned = type(learned)(learned.weights, learned.bias, 15, examples)
    papers = Paper.objects.in_bulk()
    candidates = candidates_of([released_edition()], papers)
    plain = rank(profile_of(reader, reader.topics.all()), candidates, set())
    taught = rank(profile_of(reader, reader.topics.all(), learned), candidates, set())
    assert "A Diffusion Model for Weather" not in titles(plain)
    weather_pick = next(r for r in taught if r.paper.title == "A Diffusion Model for Weather")
    assert "like “Global weather model”, which you liked" in weather_pick.reasons

    # The disliked kind (simulation) still matches the topic but scores lower than before.
    def score_of(ranked, title):
        return next(r.score for r in ranked if r.paper.title == title)

    assert score_of(taught, "Robot Simulation Benchmarks") < score_of(plain, "Robot Simulation Benchmarks")


def test_a_candidate_remembers_its_matches_per_needle_and_gives_what_a_fresh_search_gives():
    from random import Random

    from newsletter.ranking.rank import Candidate
    from papers.matching import compile_terms, paper_text

    words = ["diffusion models", "robot", "LLMs", "video", "speech", "world model", "rl", "agent"]
    texts = [
        paper_text("Diffusion Models for Robots", "An agent learns a world model from video.", ()),
        paper_text("Speech LLMs", "We train LLMs on speech and text; no robots here.", ()),
    ]
    candidates = [Candidate(Paper(title=str(i)), text, 0.5, {}, False) for i, text in enumerate(texts)]
    rng = Random(7)
    for _ in range(200):  # readers of one chunk, asking the same candidates in turn
        terms = compile_terms(rng.sample(words, rng.randint(0, 4)))
        for candidate in candidates:
            assert candidate.mentions(terms) == terms.found_in(candidate.text)
    assert candidates[0].found != candidates[1].found  # each paper its own memory
    assert candidates[0].found[" robot "] and not candidates[1].found[" rl "]
