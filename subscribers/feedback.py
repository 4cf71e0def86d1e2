"""Votes on papers ("more / less like this") and the reader model learned from them."""

from django.db import transaction

from newsletter.learning import Learned, document_stems, train
from papers.models import Paper
from subscribers.followups import snapshot
from subscribers.models import ReaderModel, Subscriber, Vote

# Recent papers the reader saw and did not vote on stand in as negatives before any dislike.
BACKGROUND_PAPERS = 60
# Liked papers kept to explain picks ("like 'X', which you liked").
MAX_EXAMPLES = 20


def _enqueue_training(subscriber_id: int) -> None:
    from subscribers.tasks import train_reader_task

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


def stems_of_paper(paper: Paper) -> frozenset[str]:
    return document_stems(paper.title, paper.abstract, paper.ai_keywords or ())


def weak_positives(subscriber: Subscriber) -> list[frozenset[str]]:
    """The reader's topics' terms and own keywords, each as a tiny document."""
    texts = [term for topic in subscriber.topics.all() for term in topic.matcher().include.compiled]
    docs = [document_stems(term) for term, _ in texts]
    docs += [document_stems(keyword) for keyword in subscriber.keywords]
    return [doc for doc in docs if doc]


def retrain(subscriber: Subscriber) -> Learned | None:
    """Fit and store the reader's model; without votes to learn from, drop it."""
    votes = list(Vote.objects.filter(subscriber=subscriber).select_related("paper"))
    liked = [stems_of_paper(v.paper) for v in votes if v.value > 0]
    disliked = [stems_of_paper(v.paper) for v in votes if v.value < 0]
    voted = {v.paper_id for v in votes}
    background = [
        stems_of_paper(p)
        for p in Paper.objects.exclude(pk__in=voted).order_by("-first_listed_on")[:BACKGROUND_PAPERS]
    ]
    learned = train(liked, disliked, weak_positives(subscriber), background)
    if learned is None:
        ReaderModel.objects.filter(subscriber=subscriber).delete()
        return None
    examples = [
        {"title": v.paper.title, "stems": sorted(stems_of_paper(v.paper))} for v in votes if v.value > 0
    ]
    ReaderModel.objects.update_or_create(
        subscriber=subscriber,
        defaults={
            "weights": learned.weights,
            "bias": learned.bias,
            "votes_used": learned.votes,
            "examples": examples[:MAX_EXAMPLES],
        },
    )
    return learned


def learned_of(model: ReaderModel | None) -> Learned | None:
    """The stored model in the form ranking uses."""
    if model is None:
        return None
    examples = tuple((e["title"], frozenset(e["stems"])) for e in model.examples)
    return Learned(model.weights, model.bias, model.votes_used, examples)
