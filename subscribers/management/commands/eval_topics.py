"""The topic classifier against the labelled set, cross-validated by listing day (a day is never
scored by a model that trained on it), beside the term matching of the topics in the database."""

import json

from django.core.management.base import BaseCommand, CommandParser

from papers.classifier.evaluation import Evaluation, evaluate
from papers.classifier.training import FOLDS, shipped_examples, shipped_texts
from subscribers.models import Subscriber, Topic

COLUMNS = f"{'topic':24} {'P':>5} {'R':>5} {'F1':>5}   {'terms P':>7} {'R':>5} {'F1':>5}"


class Command(BaseCommand):
    help = "Precision, recall and F1 per topic of the classifier and of term matching, by listing day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folds", type=int, default=FOLDS, help="groups of listing days")
        parser.add_argument("--days", type=int, help="only the first N labelled listing days (a slice)")
        parser.add_argument("--wrong", type=int, default=0, help="list N misclassified papers per topic")

    def handle(self, *args, folds: int, days: int | None, wrong: int, **options) -> None:
        topics = {t.slug: t.matcher() for t in Topic.objects.all()}
        examples = shipped_examples(list(topics))
        if days:
            kept = sorted({e.day for e in examples})[:days]
            examples = [e for e in examples if e.day in kept]
        examples = [e for e in examples if e.labels]
        judged = {slug: m for slug, m in topics.items() if any(slug in e.labels for e in examples)}
        max_papers = Subscriber._meta.get_field("max_papers").default
        result = evaluate(
            examples, shipped_texts(), judged, folds=folds, progress=self.stderr.write, max_papers=max_papers
        )
        self.report(result, wrong)

    def report(self, result: Evaluation, wrong: int) -> None:
        self.stdout.write(COLUMNS)
        for slug, mine in result.classifier.items():
            base = result.baseline[slug]
            self.stdout.write(
                f"{slug:24} {mine.precision:5.2f} {mine.recall:5.2f} {mine.f1:5.2f}   "
                f"{base.precision:7.2f} {base.recall:5.2f} {base.f1:5.2f}"
            )
            for arxiv_id, labelled_in, probability in result.wrong[slug][:wrong]:
                kind = "missed" if labelled_in else "wrongly in"
                self.stdout.write(f"    {kind}: {arxiv_id} (p={probability})")
        self.stdout.write(
            f"{'macro':24} {result.macro('classifier', 'precision'):5.2f} "
            f"{result.macro('classifier', 'recall'):5.2f} {result.macro('classifier', 'f1'):5.2f}   "
            f"{result.macro('baseline', 'precision'):7.2f} {result.macro('baseline', 'recall'):5.2f} "
            f"{result.macro('baseline', 'f1'):5.2f}"
        )
        digests = list(result.digests.values())
        on_topic = round(sum(share for share, _ in digests) / len(digests), 4) if digests else 0.0
        reach = round(sum(reached for _, reached in digests) / len(digests), 4) if digests else 0.0
        self.stdout.write(
            f"one-topic readers' digests: {on_topic:.2f} of picks on topic, {reach:.2f} reached"
        )
        summary = {
            "macro_precision": result.macro("classifier", "precision"),
            "macro_recall": result.macro("classifier", "recall"),
            "macro_f1": result.macro("classifier", "f1"),
            "baseline_macro_f1": result.macro("baseline", "f1"),
            "digest_on_topic": on_topic,
            "digest_reach": reach,
            "topics": {
                slug: {"precision": s.precision, "recall": s.recall, "f1": s.f1}
                for slug, s in result.classifier.items()
            },
        }
        self.stdout.write(json.dumps(summary))
