"""How well the classifier and the term matching it replaces agree with the labelled set, on
listing days the model never trained on: each fold of days is scored by a model (thresholds
included) fitted on the other days only."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold

from papers.classifier.training import FOLDS, Example, Scores, fit, scores_of
from papers.matching import Matcher, match_text, paper_text


@dataclass(frozen=True)
class Evaluation:
    classifier: dict[str, Scores]
    baseline: dict[str, Scores]
    wrong: dict[str, list[tuple[str, bool, float]]]  # slug -> (arxiv id, labelled in, probability)
    # A one-topic reader's daily digests: the share of their topic picks that are on the topic,
    # and the share of each day's on-topic papers that reach them (at most max_papers a day).
    digests: dict[str, tuple[float, float]]

    def macro(self, which: str, name: str) -> float:
        values = [getattr(s, name) for s in getattr(self, which).values()]
        return round(sum(values) / len(values), 4) if values else 0.0


def held_out_predictions(
    examples: Sequence[Example], slugs: Sequence[str], folds: int, progress: Callable[[str], None]
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, in-topic decisions) for every example, from models fitted without its day."""
    probability = np.zeros((len(examples), len(slugs)))
    decided = np.zeros((len(examples), len(slugs)), dtype=bool)
    days = [e.day for e in examples]
    splits = GroupKFold(min(folds, len(set(days)))).split(examples, groups=days)
    for n, (train, test) in enumerate(splits, start=1):
        progress(f"fold {n} of {folds}: training on {len(train)} papers, scoring {len(test)}")
        model = fit([examples[i] for i in train], slugs)
        for i in test:
            result = model.classify(examples[i].doc)
            probability[i] = [result.scores[s] for s in slugs]
            decided[i] = [s in result.topics for s in slugs]
    return probability, decided


def evaluate(
    examples: Sequence[Example],
    texts: Mapping[str, str],
    matchers: Mapping[str, Matcher],
    folds: int = FOLDS,
    progress: Callable[[str], None] = lambda _: None,
    max_papers: int = 10,
) -> Evaluation:
    """`texts`: each example's title, abstract and keywords (by id), for the term matching of
    `matchers` (slug -> the topic's include/exclude terms), scored side by side."""
    slugs = list(matchers)
    probability, decided = held_out_predictions(examples, slugs, folds, progress)
    classifier, baseline, wrong = {}, {}, {}
    normalised = {e.id: paper_text(*texts[e.id]) for e in examples}
    for k, slug in enumerate(slugs):
        rows = [i for i, e in enumerate(examples) if slug in e.labels]
        truth = np.array([examples[i].labels[slug] for i in rows], dtype=bool)
        classifier[slug] = scores_of(truth, decided[rows, k])
        matched = np.array([bool(match_text(matchers[slug], normalised[examples[i].id])) for i in rows])
        baseline[slug] = scores_of(truth, matched)
        wrong[slug] = [
            (examples[i].id, bool(t), round(float(probability[i, k]), 3))
            for i, t in zip(rows, truth, strict=True)
            if t != decided[i, k]
        ]
    return Evaluation(
        classifier, baseline, wrong, digest_figures(examples, slugs, probability, decided, max_papers)
    )


def digest_figures(
    examples: Sequence[Example],
    slugs: Sequence[str],
    probability: np.ndarray,
    decided: np.ndarray,
    max_papers: int = 10,
) -> dict[str, tuple[float, float]]:
    """Per topic, over every listing day: (on-topic share of the picks, reach of the on-topic papers)."""
    figures = {}
    for k, slug in enumerate(slugs):
        picked = on_topic = relevant = 0
        for day in sorted({e.day for e in examples}):
            rows = [i for i, e in enumerate(examples) if e.day == day and slug in e.labels]
            picks = sorted((i for i in rows if decided[i, k]), key=lambda i: -probability[i, k])[:max_papers]
            picked += len(picks)
            on_topic += sum(examples[i].labels[slug] for i in picks)
            relevant += sum(examples[i].labels[slug] for i in rows)
        figures[slug] = (
            round(on_topic / picked, 4) if picked else 0.0,
            round(on_topic / relevant, 4) if relevant else 0.0,
        )
    return figures
