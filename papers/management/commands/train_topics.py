"""Train the topic classifier: `--default` rebuilds the model shipped in the repository from the
labelled set alone (reproducible: same labels, same file), less the few labelled days the tests
score digests on (UNSEEN_BY_DEFAULT_MODEL); without it, a model for this install is trained on the
whole labelled set plus curators' marks, stored in the database and used from then on."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.classifier.model import DEFAULT_MODEL
from papers.classifier.retrain import train
from papers.classifier.training import fit, shipped_examples
from papers.models import TopicModelVersion
from papers.topic_labels import TOPICS, UNSEEN_BY_DEFAULT_MODEL


class Command(BaseCommand):
    help = "Train the topic classifier (the shipped default with --default, else this install's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--default", action="store_true", help=f"rebuild {DEFAULT_MODEL.name}")
        parser.add_argument(
            "--into", type=int, help="train into this TopicModelVersion row (the console starts one)"
        )

    def handle(self, *args, default: bool, into: int | None, **options) -> None:
        if default:
            examples = [e for e in shipped_examples(TOPICS) if e.day not in UNSEEN_BY_DEFAULT_MODEL]
            model = fit(examples, TOPICS, progress=self.stdout.write)
            DEFAULT_MODEL.write_bytes(model.to_bytes())
            size = DEFAULT_MODEL.stat().st_size / 1e6
            self.stdout.write(f"wrote {DEFAULT_MODEL} ({size:.1f} MB, {model.info['papers']} papers)")
            return
        row = (
            TopicModelVersion.objects.filter(pk=into).first() if into else TopicModelVersion.objects.create()
        )
        if row is None:
            raise CommandError(f"no topic model {into}")
        row = train(row, TOPICS)
        figures = row.info.get("held_out", {})
        for slug, scores in figures.items():
            self.stdout.write(f"{slug:24} precision {scores['precision']:.2f}  recall {scores['recall']:.2f}")
        self.stdout.write(f"topic model {row.pk} ready, trained on {row.info.get('papers')} papers")
