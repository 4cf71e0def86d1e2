"""The topic classifier in the database: which model is in use, papers' scores, curators' marks.
No scikit-learn here: this runs in every worker that stores papers (training is retrain.py)."""

import logging
import threading
from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet

from papers.classifier.model import TopicModel, load_default
from papers.classifier.text import document_of
from papers.models import Paper, TopicMark, TopicModelVersion

log = logging.getLogger(__name__)
SCORED_FIELDS = ["topic_scores", "topics", "topic_evidence", "topic_model"]

_cache: dict[str, tuple[int | None, TopicModel]] = {}
_lock = threading.Lock()


def current_model() -> tuple[TopicModel, int | None]:
    """(model, version id): the newest trained on this install, else the shipped one (None).
    Loaded once per process and version; asking costs one small query."""
    newest = TopicModelVersion.objects.filter(status=TopicModelVersion.Status.READY).values("pk").first()
    version = newest["pk"] if newest else None
    with _lock:
        cached = _cache.get("model")
        if cached is None or cached[0] != version:
            if version is None:
                model = load_default()
            else:
                model = TopicModel.from_bytes(bytes(TopicModelVersion.objects.get(pk=version).data))
            _cache["model"] = cached = (version, model)
    return cached[1], cached[0]


def classify(papers: Iterable[Paper], save: bool = True) -> list[Paper]:
    """Score `papers` with the current model (and save the scores, in one UPDATE)."""
    papers = list(papers)
    if not papers:
        return papers
    model, version = current_model()
    for paper in papers:
        result = model.classify(document_of(paper))
        paper.topic_scores, paper.topics, paper.topic_evidence = result.scores, result.topics, result.evidence
        paper.topic_model_id = version
    if save and papers:
        Paper.objects.bulk_update(papers, SCORED_FIELDS, batch_size=500)
    return papers


def stale_papers() -> QuerySet[Paper]:
    """Papers not yet scored by the current model."""
    _, version = current_model()
    if version is None:
        return Paper.objects.filter(Q(topic_model__isnull=False) | Q(topic_scores={}))
    return Paper.objects.exclude(topic_model_id=version)


def classify_stale(batch: int = 500, progress: Callable[[str], None] = lambda _: None) -> int:
    """Score every paper the current model has not scored yet; returns how many."""
    done = 0
    while chunk := list(stale_papers().order_by("pk")[:batch]):
        classify(chunk)
        done += len(chunk)
        progress(f"scored {done} papers")
    return done


def mark(paper: Paper, slug: str, is_in: bool, curator: str = "") -> TopicMark:
    found, _ = TopicMark.objects.update_or_create(
        paper=paper, topic=slug, defaults={"is_in": is_in, "marked_by": curator[:150]}
    )
    return found


def held_out_figures() -> dict[str, dict]:
    """Each trained topic's precision and recall on listing days held out from its training."""
    return current_model()[0].info.get("held_out", {})


def start_training() -> TopicModelVersion:
    """A new model row, trained by a task after commit (papers.tasks.train_topics_task)."""
    return TopicModelVersion.objects.create(progress="queued")
