"""News on papers a reader liked: code released, a project page, a jump in upvotes.

Each liked paper remembers what it looked like when the reader last heard of it (`Vote.seen_*`);
the next digest tells what changed and then remembers the new state, so news is told once."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q

from config.ids import AnyOf
from papers.models import Paper
from subscribers.models import Vote

# An upvote jump worth telling: at least doubled and by at least this many.
UPVOTE_JUMP = 50


@dataclass(frozen=True)
class News:
    paper: Paper
    what: str


def snapshot(paper: Paper) -> dict:
    return {
        "seen_upvotes": paper.upvotes,
        "seen_code": bool(paper.github_repo),
        "seen_project": bool(paper.project_page),
    }


def _changes(vote: Vote) -> list[str]:
    paper, changes = vote.paper, []
    if paper.github_repo and not vote.seen_code:
        changes.append("code released")
    if paper.project_page and not vote.seen_project:
        changes.append("project page online")
    if paper.upvotes >= 2 * vote.seen_upvotes and paper.upvotes - vote.seen_upvotes >= UPVOTE_JUMP:
        changes.append(f"upvotes {vote.seen_upvotes} → {paper.upvotes}")
    return changes


def news_for(subscriber_ids: Iterable[int]) -> dict[int, list[tuple[Vote, News]]]:
    """News per reader, in one query whatever the number of readers."""
    changed = (
        Q(paper__github_repo__gt="", seen_code=False)
        | Q(paper__project_page__gt="", seen_project=False)
        | (
            Q(paper__upvotes__gte=2 * F("seen_upvotes"))
            & Q(paper__upvotes__gte=F("seen_upvotes") + UPVOTE_JUMP)
        )
    )
    readers = AnyOf(F("subscriber_id"), list(subscriber_ids))
    votes = Vote.objects.filter(changed, readers, value__gt=0).select_related("paper")
    found: dict[int, list[tuple[Vote, News]]] = {}
    for vote in votes:
        if changes := _changes(vote):
            found.setdefault(vote.subscriber_id, []).append((vote, News(vote.paper, ", ".join(changes))))
    return found


def mark_told(votes: list[Vote]) -> None:
    """Remember the state the reader was told about (one query)."""
    for vote in votes:
        for name, value in snapshot(vote.paper).items():
            setattr(vote, name, value)
    Vote.objects.bulk_update(votes, ["seen_upvotes", "seen_code", "seen_project"])
