"""Training the topic model from labelled papers, and measuring it on listing days it never saw.

Labels are known per topic: a paper of the shipped set (papers/topic_labels) is judged for every
default topic, a curator's mark judges one paper for one topic. Each topic learns from the papers
judged for it, with two logistic regressions over the same TF-IDF features: one on the features
as they are, one on the features scaled by how much more often each occurs in the topic's papers
than in the others (its log-count ratio: "NBSVM", Wang and Manning 2012). Their logits are
averaged, which is again one linear model, so scoring stays a dot product (held-out mean average
precision 0.943 -> 0.945, macro F1 at the best thresholds 0.874 -> 0.879). Its threshold is chosen
on listing days held out from training (cross-validation grouped by day): the lowest probability
that keeps precision at TARGET_PRECISION, or failing that the best F1.
"""

import gzip
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from papers.classifier.model import TopicModel
from papers.classifier.text import Document, document
from papers.topic_labels import FOLDER as LABELS
from papers.topic_labels import TOPICS

TARGET_PRECISION = 0.85
C = 48.0  # inverse regularisation: by nested cross-validation on the shipped set (16 and 48 give the same
# macro F1, 0.884 and 0.885; 48 keeps Safety, the smallest topic, at its targets, 0.858 / 0.812)
FOLDS = 5
MAX_FEATURES = 40_000
THRESHOLDS = np.arange(0.1, 0.951, 0.025)


@dataclass
class Example:
    id: str
    day: str
    doc: Document
    labels: dict[str, bool] = field(default_factory=dict)  # slug -> in the topic, where judged


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support}


def shipped_texts(folder: Path = LABELS) -> dict[str, tuple[str, str, list[str]]]:
    """Title, abstract and AI keywords of each paper of the labelled set, by arXiv id."""
    with gzip.open(folder / "texts.jsonl.gz", "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return {row["id"]: (row["title"], row["abstract"], row["ai_keywords"]) for row in rows}


def shipped_examples(slugs: Sequence[str] = TOPICS, folder: Path = LABELS) -> list[Example]:
    """The labelled set that ships with Paperboy, judged for every topic of `slugs` it knows."""
    texts = {key: document(*text) for key, text in shipped_texts(folder).items()}
    examples = []
    for line in (folder / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        topics = set(row["topics"])
        examples.append(Example(row["id"], row["date"], texts[row["id"]], {s: s in topics for s in slugs}))
    return examples


def scores_of(truth: np.ndarray, predicted: np.ndarray) -> Scores:
    hits = int((truth & predicted).sum())
    precision = hits / int(predicted.sum()) if predicted.sum() else 0.0
    recall = hits / int(truth.sum()) if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4), int(truth.sum()))


def choose_threshold(truth: np.ndarray, probability: np.ndarray) -> float:
    results = [(t, scores_of(truth, probability >= t)) for t in THRESHOLDS]
    precise = [(t, s) for t, s in results if s.precision >= TARGET_PRECISION and s.recall > 0]
    return float(max(precise or results, key=lambda ts: (ts[1].f1, -ts[0]))[0])


def _vectorizer() -> TfidfVectorizer:
    # The documents are already features (papers.classifier.text): the analyzer only lists them.
    return TfidfVectorizer(
        analyzer=lambda doc: list(doc.features.elements()),
        sublinear_tf=True,
        min_df=2,
        max_features=MAX_FEATURES,
    )


def _judged(examples: Sequence[Example], slug: str) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([i for i, e in enumerate(examples) if slug in e.labels], dtype=int)
    return rows, np.array([examples[i].labels[slug] for i in rows], dtype=bool)


def _fit_topic(features, truth: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(coefficients, intercept) of the topic's linear model, or None with nothing to tell apart."""
    if truth.all() or not truth.any():
        return None
    plain = _regression().fit(features, truth)
    ratio = _log_count_ratio(features, truth)
    scaled = _regression().fit(features.multiply(ratio).tocsr(), truth)
    coef = (plain.coef_[0] + scaled.coef_[0] * ratio) / 2
    return coef, float(plain.intercept_[0] + scaled.intercept_[0]) / 2


def _regression() -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=5000)


def _log_count_ratio(features, truth: np.ndarray) -> np.ndarray:
    inside = np.asarray(features[truth].sum(axis=0)).ravel() + 1
    outside = np.asarray(features[~truth].sum(axis=0)).ravel() + 1
    return np.log((inside / inside.sum()) / (outside / outside.sum()))


def _probabilities(model: tuple[np.ndarray, float] | None, features) -> np.ndarray:
    if model is None:
        return np.zeros(features.shape[0])
    coef, intercept = model
    return expit(features @ coef + intercept)


def out_of_fold(examples: Sequence[Example], slugs: Sequence[str], folds: int = FOLDS) -> np.ndarray:
    """Each example's probabilities from a model that never saw its listing day."""
    result = np.zeros((len(examples), len(slugs)))
    days = [e.day for e in examples]
    for train, test in GroupKFold(min(folds, len(set(days)))).split(examples, groups=days):
        vectorizer = _vectorizer()
        train_features = vectorizer.fit_transform([examples[i].doc for i in train])
        test_features = vectorizer.transform([examples[i].doc for i in test])
        train_examples = [examples[i] for i in train]
        for k, slug in enumerate(slugs):
            rows, truth = _judged(train_examples, slug)
            result[test, k] = _probabilities(_fit_topic(train_features[rows], truth), test_features)
    return result


def fit(
    examples: Sequence[Example], slugs: Sequence[str], progress: Callable[[str], None] = lambda _: None
) -> TopicModel:
    """Train on all `examples`; thresholds and the held-out figures come from cross-validation."""
    progress(f"cross-validating on {len(examples)} papers")
    held_out = out_of_fold(examples, slugs)
    thresholds, figures = [], {}
    for k, slug in enumerate(slugs):
        rows, truth = _judged(examples, slug)
        thresholds.append(choose_threshold(truth, held_out[rows, k]))
        figures[slug] = scores_of(truth, held_out[rows, k] >= thresholds[-1]).as_dict()
    progress("training on every paper")
    vectorizer = _vectorizer()
    features = vectorizer.fit_transform([e.doc for e in examples])
    coef = np.zeros((features.shape[1], len(slugs)))
    intercept = np.full(len(slugs), -30.0)  # a topic with nothing to learn from matches nothing
    for k, slug in enumerate(slugs):
        rows, truth = _judged(examples, slug)
        model = _fit_topic(features[rows], truth)
        if model is not None:
            coef[:, k], intercept[k] = model
    info = {"papers": len(examples), "days": len({e.day for e in examples}), "held_out": figures}
    vocabulary = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
    return TopicModel(list(slugs), vocabulary, vectorizer.idf_, coef, intercept, np.array(thresholds), info)


def merge_marks(
    examples: list[Example], marks: Iterable[tuple[str, str, Document, str, bool]]
) -> list[Example]:
    """Curators' marks over the shipped set: a mark
    replaces the shipped judgement of that paper for that topic, or adds the paper."""
    by_id = {e.id: e for e in examples}
    for arxiv_id, day, doc, slug, is_in in marks:
        example = by_id.get(arxiv_id)
        if example is None:
            example = by_id[arxiv_id] = Example(arxiv_id, day, doc)
            examples.append(example)
        example.labels[slug] = is_in
    return examples
