"""Training a topic model on this install: the shipped labels plus every curator's mark. Run by
`manage.py train_topics` in a process of its own (the console's retrain task starts one), so
scikit-learn is never loaded into the workers that store papers and send digests."""

import logging

from django.db import transaction
from django.utils import timezone

from papers.classifier.store import classify_stale
from papers.classifier.text import Document, document_of
from papers.classifier.training import fit, merge_marks, shipped_examples
from papers.models import TopicMark, TopicModelVersion

log = logging.getLogger(__name__)


def marked_examples() -> list[tuple[str, str, Document, str, bool]]:
    rows = TopicMark.objects.select_related("paper").order_by("pk")
    return [
        (m.paper.arxiv_id, m.paper.first_listed_on.isoformat(), document_of(m.paper), m.topic, m.is_in)
        for m in rows
    ]


def train(version: TopicModelVersion, slugs: list[str]) -> TopicModelVersion:
    """Fit a model on the shipped labels plus every curator's mark, store it in `version`
    (progress on the row as it goes), then rescore the stored papers with it."""

    def progress(message: str) -> None:
        log.info("topic model %s: %s", version.pk, message)
        TopicModelVersion.objects.filter(pk=version.pk).update(progress=message[:200])

    marks = marked_examples()
    slugs = list(dict.fromkeys([*slugs, *(m[3] for m in marks)]))
    try:
        model = fit(merge_marks(shipped_examples(slugs), marks), slugs, progress)
    except Exception as exc:
        TopicModelVersion.objects.filter(pk=version.pk).update(
            status=TopicModelVersion.Status.FAILED,
            progress=f"failed: {exc}"[:200],
            finished_at=timezone.now(),
        )
        raise
    with transaction.atomic():
        TopicModelVersion.objects.filter(pk=version.pk).update(
            status=TopicModelVersion.Status.READY,
            data=model.to_bytes(),
            info=model.info,
            marks=len(marks),
            finished_at=timezone.now(),
            progress="rescoring stored papers",
        )
    classify_stale(progress=progress)
    TopicModelVersion.objects.filter(pk=version.pk).update(progress="done")
    version.refresh_from_db()
    return version
