"""Ranking an edition's papers for one subscriber, with the reason for each pick.

Plain functions over plain data: `Candidate` carries what was precomputed once per edition
(see newsletter.sending.editions.compute_scores), `Profile` what was compiled once per subscriber, so
ranking one reader is a few dictionary look-ups and substring tests per paper.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from newsletter.models import Edition
from papers.matching import Terms, compile_terms, paper_text
from papers.models import Paper
from subscribers.learning import Learned, closest_example, document_stems, influence, probability
from subscribers.models import Subscriber

# Weights: a followed author or an own keyword says more about a reader than a broad topic.
# Further topics and terms add little (a paper touching every topic is not the best one), so
# among papers on the reader's topics, popularity (0..1) decides most.
TOPIC_WEIGHT = 1.0
EXTRA_TOPIC_WEIGHT = 0.25
EXTRA_TERM_WEIGHT = 0.1
MAX_EXTRA_TOPICS = 3
MAX_EXTRA_TERMS = 3
KEYWORD_WEIGHT = 1.5
AUTHOR_WEIGHT = 2.0
PICK_WEIGHT = 3.0
POPULARITY_WEIGHT = 1.5
# A learned probability from which a paper counts as one the reader would like.
LIKELY = 0.7
# A reason stays one readable line.
REASON_TOPICS = 3
REASON_TERMS = 4
# "Also send top trending papers": at most this many, in the slots max_papers leaves.
TRENDING_COUNT = 3


@dataclass(frozen=True)
class Candidate:
    paper: Paper
    text: str
    popularity: float
    topics: dict[str, tuple[str, ...]]
    pick: bool
    # Word stems of title, abstract and AI keywords, for the reader's learned model.
    stems: frozenset[str] = frozenset()
    # Whether `text` holds a term's needle, by needle: a chunk's readers share a few keywords
    # and exclusions, and searching the paper's text again for each was 5% of the send path.
    found: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def mentions(self, terms: Terms) -> tuple[str, ...]:
        """terms.found_in(self.text), each needle searched for once per candidate."""
        if not terms:
            return ()
        hits = []
        for term, needle in terms.compiled:
            hit = self.found.get(needle)
            if hit is None:
                hit = self.found[needle] = needle in self.text
            if hit:
                hits.append(term)
        return tuple(hits)


@dataclass(frozen=True)
class Profile:
    topic_names: dict[str, str]
    keywords: Terms
    excluded: Terms
    authors: frozenset[str]
    max_papers: int
    min_upvotes: int
    include_trending: bool
    learned: Learned | None = None


@dataclass(frozen=True)
class Ranked:
    paper: Paper
    score: float
    reasons: tuple[str, ...]
    # Picked because it is trending, not for the reader: shown apart, after their own picks.
    trending: bool = False


def profile_of(subscriber: Subscriber, topics: Iterable, learned: Learned | None = None) -> Profile:
    """`topics`: the subscriber's topics (prefetched); inactive ones are ignored."""
    return Profile(
        topic_names={str(t.pk): t.name for t in topics if t.active},
        keywords=compile_terms(subscriber.keywords),
        excluded=compile_terms(subscriber.excluded_keywords),
        authors=frozenset(name.casefold() for name in subscriber.followed_authors),
        max_papers=subscriber.max_papers,
        min_upvotes=subscriber.min_upvotes,
        include_trending=subscriber.include_trending,
        learned=learned,
    )


def preferences_of(subscriber: Subscriber, topics: Iterable) -> tuple:
    """Everything of a subscriber that profile_of reads (their learned model aside): two
    readers with equal preferences get the same ranking of the same candidates."""
    s = subscriber
    topics = tuple(sorted((t.pk, t.name, t.active) for t in topics))
    # repr: the JSON fields may hold any JSON, and a list is not hashable.
    return (topics, repr(s.keywords), repr(s.excluded_keywords), repr(s.followed_authors), s.max_papers,
            s.min_upvotes, s.include_trending)  # fmt: skip


def candidates_of(editions: list[Edition], papers: dict[int, Paper]) -> list[Candidate]:
    """The papers in play across `editions` (one for a daily digest, a week's for a weekly one),
    hidden ones dropped; a paper listed twice counts once, with its best popularity."""
    best: dict[int, Candidate] = {}
    for edition in editions:
        hidden = {p.pk for p in edition.hidden.all()}
        picks = {p.pk for p in edition.picks.all()}
        for c in candidates_from_scores(edition.scores, papers, picks, hidden):
            previous = best.get(c.paper.pk)
            if previous is None or c.pick or (not previous.pick and c.popularity > previous.popularity):
                best[c.paper.pk] = c
    return list(best.values())


def candidates_from_scores(
    scores: dict, papers: dict[int, Paper], picks: set[int] = frozenset(), hidden: set[int] = frozenset()
) -> list[Candidate]:
    """Candidates from precomputed scores (newsletter.sending.editions.compute_scores)."""
    found = []
    for key, data in scores.get("papers", {}).items():
        paper = papers.get(int(key))
        if paper is None or paper.pk in hidden:
            continue
        topics = {tid: tuple(terms) for tid, terms in data["topics"].items()}
        text, stems = paper_texts(paper.title, paper.abstract, tuple(map(str, paper.ai_keywords or ())))
        found.append(Candidate(paper, text, data["popularity"], topics, paper.pk in picks, stems))
    return found


@lru_cache(maxsize=4096)
def paper_texts(title: str, abstract: str, ai_keywords: tuple[str, ...]) -> tuple[str, frozenset[str]]:
    """A paper's matching text and stems, by its words: every chunk of a send asks for the
    same few dozen papers, and tokenising them again was a tenth of a chunk's fixed cost."""
    return paper_text(title, abstract, ai_keywords), document_stems(title, abstract, ai_keywords)


def _reasons_and_score(profile: Profile, c: Candidate) -> tuple[float, list[str]]:
    score, reasons = 0.0, []
    topic_hits = [
        (profile.topic_names[tid], terms) for tid, terms in c.topics.items() if tid in profile.topic_names
    ]
    if topic_hits:
        terms = sorted({term for _, ts in topic_hits for term in ts})
        score += TOPIC_WEIGHT + EXTRA_TOPIC_WEIGHT * min(len(topic_hits) - 1, MAX_EXTRA_TOPICS)
        score += EXTRA_TERM_WEIGHT * min(len(terms) - 1, MAX_EXTRA_TERMS)
        reasons.append(topic_reason(sorted(name for name, _ in topic_hits), terms))
    keywords = c.mentions(profile.keywords)
    if keywords:
        score += KEYWORD_WEIGHT * len(keywords)
        reasons.append(f"your keywords: {', '.join(keywords)}")
    # Most readers follow nobody: skip casefolding every author of every paper for them.
    authors = profile.authors and [
        a for a in c.paper.authors if isinstance(a, str) and a.casefold() in profile.authors
    ]
    if authors:
        score += AUTHOR_WEIGHT
        reasons.append(f"by {', '.join(authors)}, whom you follow")
    if profile.learned is not None:
        score += _learned_score(profile.learned, c, reasons)
    if c.pick:
        score += PICK_WEIGHT
        reasons.insert(0, "editor's pick")
    return score, reasons


def _learned_score(learned: Learned, c: Candidate, reasons: list[str]) -> float:
    """-influence..+influence: how much the reader's votes say they want this paper. A paper
    they would likely like is picked even off their topics, and says which liked paper it is like."""
    likely = probability(learned, c.stems)
    if likely >= LIKELY and (example := closest_example(learned, c.stems)):
        reasons.append(f"like “{example}”, which you liked")
    return influence(learned.votes) * (2 * likely - 1)


def topic_reason(names: list[str], terms: list[str]) -> str:
    """'matches: Reasoning, Agents (agentic, tool use)', shortened with '+N' past a few."""

    def shortened(values: list[str], keep: int) -> str:
        more = f" +{len(values) - keep}" if len(values) > keep else ""
        return ", ".join(values[:keep]) + more

    return f"matches: {shortened(names, REASON_TOPICS)} ({shortened(terms, REASON_TERMS)})"


def rank(profile: Profile, candidates: list[Candidate], already_sent: set[int]) -> list[Ranked]:
    """The subscriber's digest, best first: relevant papers (editor's picks always), then
    trending ones if asked for. Never a paper already sent; exclusions win over everything."""
    eligible = [c for c in candidates if c.paper.pk not in already_sent and not c.mentions(profile.excluded)]
    relevant: list[Ranked] = []
    for c in eligible:
        if not c.pick and c.paper.upvotes < profile.min_upvotes:
            continue
        score, reasons = _reasons_and_score(profile, c)
        if reasons:
            relevant.append(Ranked(c.paper, score + POPULARITY_WEIGHT * c.popularity, tuple(reasons)))
    relevant.sort(key=lambda r: (-r.score, -r.paper.upvotes, r.paper.arxiv_id))
    chosen = relevant[: profile.max_papers]
    if profile.include_trending:
        chosen += trending(eligible, {r.paper.pk for r in chosen}, profile.max_papers - len(chosen))
    return chosen


def trending(candidates: list[Candidate], exclude: set[int], slots: int) -> list[Ranked]:
    ranked = sorted(
        (c for c in candidates if c.paper.pk not in exclude),
        key=lambda c: (-c.paper.upvotes, c.paper.arxiv_id),
    )
    return [
        Ranked(c.paper, c.popularity, (f"trending: {c.paper.upvotes} upvotes",), trending=True)
        for c in ranked[: max(0, min(TRENDING_COUNT, slots))]
    ]
