"""A trained topic model and what it says about a paper: a probability per topic, the topics the
paper is in (each topic's own threshold, chosen for precision), and the words that weighed most.

Scoring is TF-IDF (sublinear counts, l2-normalised, as scikit-learn's TfidfVectorizer computes
it) times one logistic regression per topic, in numpy: it runs where papers are stored, in the
same workers that send digests, which never load scikit-learn (training does, elsewhere).
"""

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from papers.classifier.text import BIG_NUMBER, LEAD, Document

# The words quoted in a "why" line, at most.
EVIDENCE_WORDS = 3
DEFAULT_MODEL = Path(__file__).parent / "default_model.npz"


@dataclass(frozen=True)
class Classification:
    scores: dict[str, float]  # slug -> probability
    topics: list[str]  # slugs whose probability reached the topic's threshold
    evidence: dict[str, list[str]]  # slug (of `topics`) -> the paper's words that weighed most


@dataclass
class TopicModel:
    slugs: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (features, topics)
    intercept: np.ndarray  # (topics,)
    thresholds: np.ndarray  # (topics,)
    info: dict  # held-out figures per topic, what it was trained on

    def _vector(self, doc: Document) -> tuple[np.ndarray, np.ndarray, list[str]]:
        known = [(self.vocabulary[f], n, f) for f, n in doc.features.items() if f in self.vocabulary]
        if not known:
            return np.zeros(0, dtype=int), np.zeros(0), []
        index = np.array([i for i, _, _ in known])
        values = np.array([1.0 + math.log(n) for _, n, _ in known]) * self.idf[index]
        return index, values / np.linalg.norm(values), [f for _, _, f in known]

    def classify(self, doc: Document) -> Classification:
        index, values, features = self._vector(doc)
        contributions = values[:, None] * self.coef[index]  # (features in doc, topics)
        logits = contributions.sum(axis=0) + self.intercept
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        topics = [s for k, s in enumerate(self.slugs) if probabilities[k] >= self.thresholds[k]]
        evidence = {
            slug: _strongest(contributions[:, self.slugs.index(slug)], features, doc) for slug in topics
        }
        scores = {s: round(float(p), 4) for s, p in zip(self.slugs, probabilities, strict=True)}
        return Classification(scores, topics, evidence)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            buffer,
            vocabulary=np.array(names),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            slugs=np.array(self.slugs),
            info=np.array(json.dumps(self.info)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TopicModel":
        # allow_pickle=False: a model file is data, never code.
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            names = [str(n) for n in arrays["vocabulary"]]
            return cls(
                slugs=[str(s) for s in arrays["slugs"]],
                vocabulary={name: i for i, name in enumerate(names)},
                idf=arrays["idf"].astype(np.float64),
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"].astype(np.float64),
                thresholds=arrays["thresholds"].astype(np.float64),
                info=json.loads(str(arrays["info"])),
            )


def _strongest(contribution: np.ndarray, features: list[str], doc: Document) -> list[str]:
    """The paper's own words behind the largest contributions, a pair of words covering its parts."""
    chosen: list[str] = []
    for j in np.argsort(-contribution):
        if contribution[j] <= 0 or len(chosen) == EVIDENCE_WORDS:
            break
        words = doc.surface[features[j]]
        if _says_little(words) or features[j].lstrip(LEAD) == BIG_NUMBER:  # a count says little quoted
            continue
        if not any(_overlap(words, other) for other in chosen):
            chosen.append(words)
    return chosen


# Words that weigh in a pair ("survey of") but say nothing quoted alone in a "why" line.
_LITTLE = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "these",
        "this",
        "to",
        "was",
        "we",
        "were",
        "which",
        "with",
        "via",
        "using",
        "based",
        "new",
    }
)


def _says_little(words: str) -> bool:
    return any(word in _LITTLE or len(word) < 2 for word in words.split())


def _overlap(a: str, b: str) -> bool:
    """'diffusion' and 'diffusion models' say the same twice."""
    first, second = set(a.split()), set(b.split())
    return first <= second or second <= first


def load_default() -> TopicModel:
    """The model shipped with Paperboy (`manage.py train_topics --default` rebuilds it)."""
    return TopicModel.from_bytes(DEFAULT_MODEL.read_bytes())
