"""The public, non-personalised version of each edition."""

from django.db.models import QuerySet

from newsletter.models import Delivery, Edition
from newsletter.ranking.rank import Ranked, candidates_of
from papers.models import Paper

PUBLIC_TOP = 10


def published_editions() -> QuerySet[Edition]:
    return Edition.objects.filter(status__in=[Edition.Status.SENDING, Edition.Status.SENT])


def public_digest(edition: Edition) -> list[Ranked]:
    """Editor's picks first, then the day's most upvoted papers."""
    paper_ids = [int(pid) for pid in edition.scores.get("papers", {})]
    candidates = candidates_of([edition], Paper.objects.in_bulk(paper_ids))
    picks = sorted((c for c in candidates if c.pick), key=lambda c: -c.paper.upvotes)
    rest = sorted((c for c in candidates if not c.pick), key=lambda c: (-c.paper.upvotes, c.paper.arxiv_id))
    chosen = [Ranked(c.paper, 0.0, ("editor's pick",)) for c in picks]
    chosen += [Ranked(c.paper, 0.0, ()) for c in rest]
    return chosen[: max(PUBLIC_TOP, len(picks))]


def delivered_items(delivery: Delivery) -> list[Ranked]:
    """Exactly what a personal digest held, in its order (papers since deleted are left out)."""
    papers = Paper.objects.in_bulk([item["paper"] for item in delivery.items])
    return [
        Ranked(papers[item["paper"]], 0.0, tuple(item["reasons"]))
        for item in delivery.items
        if item["paper"] in papers
    ]
