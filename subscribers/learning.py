"""Learning a reader's taste from their votes.

A logistic regression over which word stems a paper's title, abstract and AI keywords contain
(scikit-learn, trained in a task after votes, never in the send path). The model is kept as a
weight per stem, so scoring a paper while sending is a sum of dictionary look-ups, and its say
in the ranking grows with the number of votes (see `influence`).
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from papers.matching import stems_of

# Weak positives (the reader's topics and keywords, as tiny documents) count this much of a vote.
WEAK_POSITIVE_WEIGHT = 0.3
# Stems kept per reader: the largest weights carry nearly all of the score.
MAX_STEMS = 600
# Votes after which the learned score has its full say.
FULL_INFLUENCE_VOTES = 15
LEARNED_WEIGHT = 3.0


@dataclass(frozen=True)
class Learned:
    weights: dict[str, float]
    bias: float
    votes: int
    # (title, stems) of papers the reader liked, newest first: the "like 'X'" in reasons.
    examples: tuple[tuple[str, frozenset[str]], ...] = ()


# Words every abstract has: they say nothing about a reader's taste.
STOP_WORDS = frozenset(
    stems_of(
        "a an and are as at be but by can for from has have in into is it its of on or our that the "
        "their these this those to was we were which while with without via using use used based "
        "new show shows propose proposes paper approach method methods model models result results "
        "also both more than however such thus through across between over under not no"
    )
)


def document_stems(title: str, abstract: str = "", ai_keywords: Iterable[str] = ()) -> frozenset[str]:
    words = stems_of(" ".join([title, abstract, *map(str, ai_keywords)]))
    return frozenset(words) - STOP_WORDS


def train(
    liked: Sequence[frozenset[str]],
    disliked: Sequence[frozenset[str]],
    weak_positives: Sequence[frozenset[str]] = (),
    background: Sequence[frozenset[str]] = (),
) -> Learned | None:
    """Fit the reader's model. Without dislikes, `background` papers (ones shown and not liked)
    stand in as negatives. None when there is nothing to tell apart."""
    negatives = list(disliked) or list(background)
    positives = list(liked) + list(weak_positives)
    if not liked or not negatives:
        return None
    docs = positives + negatives
    labels = [1] * len(positives) + [0] * len(negatives)
    sample_weight = [1.0] * len(liked) + [WEAK_POSITIVE_WEIGHT] * len(weak_positives)
    sample_weight += [1.0 if disliked else 0.5] * len(negatives)
    vectorizer = DictVectorizer()
    features = vectorizer.fit_transform([dict.fromkeys(doc, 1) for doc in docs])
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=500)
    model.fit(features, labels, sample_weight=sample_weight)
    names = vectorizer.get_feature_names_out()
    ranked = sorted(zip(names, model.coef_[0], strict=True), key=lambda pair: -abs(pair[1]))[:MAX_STEMS]
    weights = {str(name): round(float(weight), 4) for name, weight in ranked if weight}
    return Learned(weights, float(model.intercept_[0]), len(liked) + len(disliked))


def closest_example(learned: Learned, stems: frozenset[str]) -> str | None:
    """The liked paper sharing the most words with this one (Jaccard), if any shares some."""
    best, best_score = None, 0.0
    for title, example in learned.examples:
        union = len(stems | example)
        score = len(stems & example) / union if union else 0.0
        if score > best_score:
            best, best_score = title, score
    return best


def probability(learned: Learned, stems: frozenset[str]) -> float:
    """How likely the reader likes a paper with these stems, 0..1."""
    z = learned.bias + sum(learned.weights.get(stem, 0.0) for stem in stems)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def influence(votes: int) -> float:
    """0 for a new reader, growing to LEARNED_WEIGHT after FULL_INFLUENCE_VOTES votes."""
    return LEARNED_WEIGHT * min(1.0, votes / FULL_INFLUENCE_VOTES)
