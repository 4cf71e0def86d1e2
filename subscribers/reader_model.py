"""A reader's model, learned from their votes (subscribers.learning) and stored per reader."""

from papers.models import Paper
from subscribers.learning import Learned, document_stems, train
from subscribers.models import ReaderModel, Subscriber, Vote

# Recent papers the reader saw and did not vote on stand in as negatives before any dislike.
BACKGROUND_PAPERS = 60
# Liked papers kept to explain picks ("like 'X', which you liked").
MAX_EXAMPLES = 20


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
