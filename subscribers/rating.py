"""Seeding a new reader's model at sign-up: a few recent papers to rate "more / less like this".

The first picks are the papers the reader's topics and keywords pick, ranked as a digest would
rank them (on-topic first, then by the day's popularity): a reader recognises them, and they
carry most of the likes the model needs. The rest are the papers the reader's learned model is
least sure of (probability nearest 0.5): active learning, each answer teaching the most. Before
any model exists (no like yet), the rest are the papers least like anything already rated or
chosen, so the answers cover what the reader has not been asked about.

The choice is remade after every vote, from what is rated by then, so the page asks about the
next paper with the model the last vote trained. `choose_papers_to_rate` is plain data in, plain
data out: the evaluation (newsletter.ranking.evaluation) runs exactly this code.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps

from papers.matching import compile_terms, paper_text
from papers.models import Paper, latest_listing_day
from papers.scores import TopicLike, compute_scores
from subscribers.feedback import record_vote
from subscribers.learning import Learned, document_stems, probability
from subscribers.models import Subscriber, Vote
from subscribers.reader_model import learned_of

# Papers asked about at sign-up: about a minute of a reader's time.
RATE_COUNT = 8
# Of which the reader's topics pick the first; the model's doubts pick the rest.
TOPIC_PICKS = 4
# "Recent": the listings of the last week, so a weekly reader is asked about a full week.
RECENT_DAYS = 7
# Two papers sharing more than this share of their words (Jaccard of stems) are about the same
# thing: asking about both teaches little more than asking about one. In a week of listings, 1%
# of pairs of papers are this alike (measured on March 2025, outside the evaluation's days).
NEAR_DUPLICATE = 0.15
# Weights as the digest's ranking gives them (newsletter.ranking.rank): an own keyword says more
# than a broad topic, and among on-topic papers popularity decides.
TOPIC_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.5
POPULARITY_WEIGHT = 1.5


@dataclass(frozen=True)
class ToRate:
    paper: Paper
    # Why it is asked about, in the reader's words.
    reason: str


def choose_papers_to_rate(
    papers: Sequence[Paper],
    topics: Iterable[TopicLike],
    *,
    keywords: Iterable[str] = (),
    learned: Learned | None = None,
    rated: Collection[int] = (),
    exclude: Collection[int] = (),
    count: int = RATE_COUNT,
) -> list[ToRate]:
    """At most `count` of `papers` to ask the reader about, in the order to ask: topic picks
    while fewer than TOPIC_PICKS papers are rated, then the ones the model is least sure of.
    Never a paper in `rated` (already voted on) or `exclude` (already sent)."""
    if count <= 0:
        return []
    stems = {p.pk: document_stems(p.title, p.abstract, p.ai_keywords or ()) for p in papers}
    open_papers = [p for p in papers if p.pk not in rated and p.pk not in exclude]
    # Near-duplicates are judged against what was rated too: one answer per subject.
    asked = [stems[p.pk] for p in papers if p.pk in rated]
    chosen: list[ToRate] = []

    def take(paper: Paper, reason: str) -> None:
        chosen.append(ToRate(paper, reason))
        asked.append(stems[paper.pk])

    picks = _topic_picks(open_papers, topics, keywords)
    topic_slots = min(count, max(0, TOPIC_PICKS - len(rated)))
    for paper, reason in picks:
        if len(chosen) >= topic_slots:
            break
        if not _near_duplicate(stems[paper.pk], asked):
            take(paper, reason)
    taken = {c.paper.pk for c in chosen}
    on_topic = [p for p, _ in picks if p.pk not in taken]
    left = [p for p in open_papers if p.pk not in taken]
    while len(chosen) < count and left:
        if learned is not None:
            doubt = {p.pk: abs(probability(learned, stems[p.pk]) - 0.5) for p in left}
            fresh = [p for p in left if not _near_duplicate(stems[p.pk], asked)] or left
            paper = min(fresh, key=lambda p: (doubt[p.pk], -p.upvotes, p.arxiv_id))
            reason = "Paperboy is unsure about this one"
        else:
            # No model yet: the reader's topics are all Paperboy knows. Off-topic papers are
            # surely of little interest; on-topic ones unlike those asked about are the unsure.
            unlike = [p for p in left if not _near_duplicate(stems[p.pk], asked)]
            fresh = [p for p in on_topic if p in unlike] or unlike or left
            paper = max(fresh, key=lambda p: (_novelty(stems[p.pk], asked), p.upvotes, p.arxiv_id))
            reason = "unlike the others, to learn your range"
        take(paper, reason)
        left.remove(paper)
        if paper in on_topic:
            on_topic.remove(paper)
    return chosen


def _topic_picks(
    papers: Sequence[Paper], topics: Iterable[TopicLike], keywords: Iterable[str]
) -> list[tuple[Paper, str]]:
    """Papers on the reader's topics or keywords, best first; for a reader with neither, the
    most popular papers."""
    topics = list(topics)
    names = {str(t.pk): getattr(t, "name", t.slug) for t in topics}
    scores = compute_scores(list(papers), topics)["papers"]
    own = compile_terms(keywords)
    picked = []
    for paper in papers:
        data = scores[str(paper.pk)]
        found = own.found_in(paper_text(paper.title, paper.abstract, map(str, paper.ai_keywords or ())))
        on_topics = sorted(names[key] for key in data["topics"] if key in names)
        score = POPULARITY_WEIGHT * data["popularity"]
        if on_topics:
            score += TOPIC_WEIGHT
            reason = f"matches your topics: {', '.join(on_topics)}"
        elif found:
            reason = f"matches your keywords: {', '.join(found)}"
        elif not topics and not own:
            reason = f"popular: {paper.upvotes} upvotes"
        else:
            continue
        score += KEYWORD_WEIGHT * len(found)
        picked.append((score, paper, reason))
    picked.sort(key=lambda t: (-t[0], -t[1].upvotes, t[1].arxiv_id))
    return [(paper, reason) for _, paper, reason in picked]


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _near_duplicate(stems: frozenset[str], asked: Sequence[frozenset[str]]) -> bool:
    return any(_similarity(stems, other) > NEAR_DUPLICATE for other in asked)


def _novelty(stems: frozenset[str], asked: Sequence[frozenset[str]]) -> float:
    """1 for a paper sharing no word with anything asked about, 0 for a copy of one."""
    return 1.0 - max((_similarity(stems, other) for other in asked), default=0.0)


def recent_papers() -> list[Paper]:
    """The papers of the last RECENT_DAYS days of listings, most recent listing first."""
    latest = latest_listing_day()
    if latest is None:
        return []
    window = (latest - timedelta(days=RECENT_DAYS - 1), latest)
    return list(
        Paper.objects.filter(listings__listed_on__range=window).distinct().order_by("-first_listed_on")
    )


def sent_paper_ids(subscriber: Subscriber) -> set[int]:
    """Papers already in the reader's digests. The newsletter app records them, above this one:
    its model is found by label, as models name each other, never by an import."""
    sent = apps.get_model("newsletter", "SentPaper")
    return set(sent.objects.filter(subscriber=subscriber).values_list("paper_id", flat=True))


@dataclass(frozen=True)
class RatingStep:
    # The recent papers the reader rated, with their vote (+1 / -1), and the ones still to ask.
    rated: list[tuple[Paper, int]]
    to_rate: list[ToRate]

    @property
    def done(self) -> bool:
        return not self.to_rate


def rating_step(subscriber: Subscriber) -> RatingStep:
    """Where the reader is in rating a few papers: what they rated, what to ask next."""
    papers = recent_papers()
    by_id = {p.pk: p for p in papers}
    votes = dict(Vote.objects.filter(subscriber=subscriber).values_list("paper_id", "value"))
    rated = [(by_id[pk], value) for pk, value in votes.items() if pk in by_id]
    to_rate = choose_papers_to_rate(
        papers,
        subscriber.topics.filter(active=True),
        keywords=subscriber.keywords,
        learned=learned_of(getattr(subscriber, "learned", None)),
        rated=set(votes),
        exclude=sent_paper_ids(subscriber),
        count=RATE_COUNT - len(rated),
    )
    return RatingStep(rated, to_rate)


def record_rating(subscriber: Subscriber, paper: Paper, vote: str) -> bool:
    """Record "more" or "less" like `paper`; the reader's model is retrained after commit by the
    task every vote enqueues (subscribers.feedback). False, and nothing recorded, for another vote."""
    value = {"more": 1, "less": -1}.get(vote)
    if value is None:
        return False
    record_vote(subscriber, paper, value)
    return True
