"""Learning a reader's taste from their votes.

A logistic regression over which word stems a paper's title, abstract and AI keywords contain,
trained in a task after votes, never in the send path. The model is kept as a weight per stem,
so scoring a paper while sending is a sum of dictionary look-ups, and its say in the ranking
grows with the number of votes (see `influence`).

It is fitted with numpy alone (`fit_logistic`), not scikit-learn: the workers that send digests
also run this task, and importing scikit-learn cost each of them about 90 MB (issue 7's limit is
250 MB). A reader has at most a few hundred documents, so the fit works in their space (n x n)
and takes a handful of Newton steps; tests check it against scikit-learn's LogisticRegression.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

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
    names = sorted(set().union(*docs))
    column = {name: j for j, name in enumerate(names)}
    features = np.zeros((len(docs), len(names)))
    for i, doc in enumerate(docs):
        features[i, [column[stem] for stem in doc]] = 1.0
    coef, intercept = fit_logistic(features, np.array(labels), np.array(sample_weight))
    ranked = sorted(zip(names, coef, strict=True), key=lambda pair: -abs(pair[1]))[:MAX_STEMS]
    weights = {str(name): round(float(weight), 4) for name, weight in ranked if weight}
    return Learned(weights, intercept, len(liked) + len(disliked))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, c: float = 1.0, steps: int = 50
) -> tuple[np.ndarray, float]:
    """scikit-learn's LogisticRegression(C=c, class_weight="balanced") fit: the weighted log-loss
    plus |w|^2 / 2c, intercept not penalised. The weights lie in the span of the documents,
    w = x.T @ a, so Newton's method runs on (a, b): n + 1 unknowns however many stems there are."""
    n = len(y)
    # "balanced" as scikit-learn weighs it: each class counts half, by its summed sample weights.
    total, positive = sample_weight.sum(), sample_weight[y == 1].sum()
    s = sample_weight * np.where(y == 1, total / (2 * positive), total / (2 * (total - positive)))
    kernel = x @ x.T
    a, b = np.zeros(n), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(kernel @ a + b, -30, 30)))
        r = s * (p - y)
        w = np.maximum(s * p * (1 - p), 1e-12)
        # The gradient divided by the kernel on the left: (r + a/c) for a, sum(r) for b.
        system = np.zeros((n + 1, n + 1))
        system[:n, :n] = w[:, None] * kernel + np.eye(n) / c
        system[:n, n] = w
        system[n, :n] = w @ kernel
        system[n, n] = w.sum()
        step = np.linalg.solve(system, -np.append(r + a / c, r.sum()))
        a, b = a + step[:n], b + step[n]
        if np.abs(step).max() < 1e-8:
            break
    return x.T @ a, float(b)


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
