"""The landing page's content: the latest listing's top papers, and the digest a visitor would
have received from it for the topics and keywords they are choosing, ranked by the digests' own
code. The sign-up page lives in subscribers, below this layer: it finds `landing_content` by name
(settings.LANDING_CONTENT)."""

from dataclasses import dataclass
from datetime import date

from config.ids import id_from
from newsletter.ranking.rank import Ranked, candidates_from_scores, profile_of, rank
from papers.matching import split_terms
from papers.models import Paper, latest_listing_day
from papers.scores import compute_scores
from subscribers.models import Subscriber, Topic

TOP_PAPERS = 6
# A visitor's keywords are one line of the form; more than a few dozen terms says nothing more.
MAX_TERMS = 30


@dataclass(frozen=True)
class Landing:
    day: date | None
    top: list[Paper]
    picks: list[Ranked]  # the preview: empty until the visitor chooses a topic or a keyword
    chosen: bool
    considered: int


def landing_content(topic_ids: list[str], keywords: str) -> Landing:
    day = latest_listing_day()
    if day is None:
        return Landing(None, [], [], False, 0)
    papers = list(Paper.objects.filter(listings__listed_on=day).order_by("-upvotes", "arxiv_id"))
    ids = [pk for pk in map(id_from, topic_ids) if pk is not None]  # as the form would take them
    topics = list(Topic.objects.filter(active=True, pk__in=ids))
    terms = split_terms(keywords)[:MAX_TERMS]
    chosen = bool(topics or terms)
    picks = _preview(papers, topics, terms) if chosen else []
    return Landing(day, papers[:TOP_PAPERS], picks, chosen, len(papers))


def _preview(papers: list[Paper], topics: list[Topic], keywords: list[str]) -> list[Ranked]:
    # An unsaved reader with the form's defaults: what a new subscriber's first digest holds.
    visitor = Subscriber(keywords=keywords, include_trending=False)
    candidates = candidates_from_scores(compute_scores(papers, topics), {p.pk: p for p in papers})
    return rank(profile_of(visitor, topics), candidates, set())
