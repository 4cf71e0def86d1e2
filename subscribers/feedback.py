"""Votes on papers ("more / less like this"); each one retrains the reader's model in a worker."""

from django.db import transaction

from papers.models import Paper
from subscribers.followups import snapshot
from subscribers.models import ReaderModel, Subscriber, Vote
from subscribers.tasks import train_reader_task


def _enqueue_training(subscriber_id: int) -> None:
    transaction.on_commit(lambda: train_reader_task.delay(subscriber_id))


def record_vote(subscriber: Subscriber, paper: Paper, value: int) -> None:
    """+1 / -1 sets the vote, 0 takes it back; the model is retrained after commit."""
    if value == 0:
        Vote.objects.filter(subscriber=subscriber, paper=paper).delete()
    else:
        defaults = {"value": 1 if value > 0 else -1, **snapshot(paper)}
        Vote.objects.update_or_create(subscriber=subscriber, paper=paper, defaults=defaults)
    _enqueue_training(subscriber.pk)


def forget_learning(subscriber: Subscriber) -> None:
    """Erase every vote and what was learned from them."""
    Vote.objects.filter(subscriber=subscriber).delete()
    ReaderModel.objects.filter(subscriber=subscriber).delete()
