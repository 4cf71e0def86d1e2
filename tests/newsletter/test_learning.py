from subscribers.learning import (
    FULL_INFLUENCE_VOTES,
    LEARNED_WEIGHT,
    document_stems,
    influence,
    probability,
    train,
)


def docs(*titles: str) -> list[frozenset[str]]:
    return [document_stems(title) for title in titles]


def test_it_learns_to_tell_liked_papers_from_disliked_ones():
    learned = train(
        liked=docs("Speculative decoding for fast LLM inference", "KV cache compression for long context"),
        disliked=docs("Text-to-video diffusion", "Robot grasping in clutter"),
    )
    assert probability(learned, document_stems("Faster speculative decoding")) > 0.5
    assert probability(learned, document_stems("Video diffusion for robots")) < 0.5


def test_it_needs_both_likes_and_something_to_contrast():
    assert train(liked=docs("A"), disliked=[]) is None
    assert train(liked=[], disliked=docs("B")) is None
    assert (
        train(liked=docs("Speculative decoding"), disliked=[], background=docs("Video diffusion")) is not None
    )


def test_the_learned_say_grows_with_votes():
    assert influence(0) == 0
    assert 0 < influence(FULL_INFLUENCE_VOTES // 2) < LEARNED_WEIGHT
    assert influence(FULL_INFLUENCE_VOTES * 3) == LEARNED_WEIGHT
