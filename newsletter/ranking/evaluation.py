"""Does the learned ranking beat topic matching? A replay of the listing archive.

Simulated readers each pick a broad topic but care about something narrower (their hidden
interest). Day after day each is shown the top papers of two rankings of that day's listing:
topic-only, and the real ranking with the model learned from their votes so far (trained the
way `subscribers.reader_model.retrain` trains it). They vote on what the learned ranking showed:
more like a paper of their interest, less like any other. Precision@k is the share of the top k
that match the hidden interest. Everything runs in memory; nothing touches the database.

How much a reader votes is a parameter (`votes_per_day`). The default, 10, votes on every paper
shown, as the published figures were made; a real reader votes far less (a vote link clicked in a
minority of digests), so a learned ranking that needs many votes looks better at 10 than it is.

Cold start (`cold_start`): a reader who signs up on a given day first rates a few papers of the
week before, chosen by the sign-up page's own chooser (subscribers.rating), voting by their hidden
interest; then their first listing days are replayed. The same readers with no ratings are the
baseline, so the difference is what the ratings taught. An `informed` rater is the upper bound
of any chooser: asked, knowing the hidden interest, about up to half its papers that were listed
that week and about on-topic papers outside it, it shows what sign-up ratings can teach at most.
"""

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from newsletter.ranking.rank import candidates_from_scores, profile_of, rank
from papers.classifier.store import classify
from papers.matching import Matcher, compile_matcher, match_paper
from papers.models import Paper
from papers.scores import compute_scores
from papers.sources.archive import read_archive
from papers.sources.hf import InvalidItem, paper_from_item
from subscribers.default_topics import DEFAULT_TOPICS
from subscribers.learning import Learned, document_stems, train
from subscribers.models import Subscriber, Topic
from subscribers.rating import RECENT_DAYS, choose_papers_to_rate
from subscribers.reader_model import BACKGROUND_PAPERS

# Votes a simulated reader casts on each day's digest: every paper of a digest of 10. The
# classic figures (README) were made so; `--votes-per-day` changes it.
VOTES_PER_DAY = 10


@dataclass(frozen=True)
class Persona:
    name: str
    topic: str
    interest: tuple[str, ...]


PERSONAS = (
    Persona("gui-agents", "agents", ("gui agent", "web agent", "computer use", "mobile agent", "gui")),
    Persona("maths", "reasoning", ("mathematical", "math", "theorem", "olympiad")),
    Persona("video-gen", "video", ("video generation", "text-to-video", "video diffusion")),
    Persona("manipulation", "robotics", ("manipulation", "grasp", "dexterous")),
    Persona("fast-llms", "llms", ("speculative decoding", "kv cache", "sparse attention", "quantization")),
    Persona("medical", "multimodal", ("medical", "clinical", "radiology", "pathology")),
)


@dataclass
class Reader:
    persona: Persona
    subscriber: Subscriber
    topics: list[Topic]
    interest: Matcher
    liked: list[frozenset[str]] = field(default_factory=list)
    disliked: list[frozenset[str]] = field(default_factory=list)
    examples: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    # The papers listed so far (id, stems), oldest first, and the ones voted on: as
    # `retrain` does, recent papers not voted on stand in as negatives before any dislike. A
    # reader who votes rarely and only "more like this" has a model only thanks to them.
    store: list[tuple[int, frozenset[str]]] = field(default_factory=list)
    voted: set[int] = field(default_factory=set)

    def learned(self) -> Learned | None:
        background = [stems for pk, stems in reversed(self.store) if pk not in self.voted]
        model = train(self.liked, self.disliked, [], background[:BACKGROUND_PAPERS])
        if model is None:
            return None
        return Learned(model.weights, model.bias, model.votes, tuple(self.examples[:20]))

    def see(self, papers: list[Paper]) -> None:
        self.store += [(p.pk, document_stems(p.title, p.abstract, p.ai_keywords or ())) for p in papers]

    def vote(self, paper: Paper, likes: bool) -> None:
        stems = document_stems(paper.title, paper.abstract, paper.ai_keywords or ())
        self.voted.add(paper.pk)
        if likes:
            self.liked.append(stems)
            self.examples.insert(0, (paper.title, stems))
        else:
            self.disliked.append(stems)


@dataclass
class DayResult:
    day: date
    topic: dict[int, float]
    learned: dict[int, float]


def default_topics() -> list[Topic]:
    return [
        Topic(pk=i + 1, slug=t["slug"], name=t["name"], include_terms="\n".join(t["include"]),
              exclude_terms="\n".join(t["exclude"]), active=True)
        for i, t in enumerate(DEFAULT_TOPICS)
    ]  # fmt: skip


def make_readers(topics: list[Topic], max_papers: int) -> list[Reader]:
    by_slug = {t.slug: t for t in topics}
    readers = []
    for n, persona in enumerate(PERSONAS):
        subscriber = Subscriber(pk=n + 1, email=f"{persona.name}@example.test", max_papers=max_papers)
        subscriber.include_trending = True
        readers.append(
            Reader(persona, subscriber, [by_slug[persona.topic]], compile_matcher(persona.interest))
        )
    return readers


def archive_days(path: Path, first: date | None, count: int) -> Iterator[tuple[date, list[Paper]]]:
    """Listing days as unsaved Papers with ids of their own."""
    next_id = 1
    taken = 0
    for archive_day in read_archive(path):
        if (first and archive_day.day < first) or not archive_day.items:
            continue
        papers = []
        for item in archive_day.items:
            try:
                scraped = paper_from_item(item)
            except InvalidItem:
                continue
            papers.append(Paper(pk=next_id, arxiv_id=scraped.arxiv_id, first_listed_on=archive_day.day,
                                **scraped.store_fields()))  # fmt: skip
            next_id += 1
        # Scored here, unsaved: these ids are made up and must never update stored papers.
        classify(papers, save=False)
        yield archive_day.day, papers
        taken += 1
        if taken >= count:
            return


def precision(shown: list[Paper], liked: set[int], k: int) -> float:
    return sum(1 for p in shown[:k] if p.pk in liked) / k


def votes_cast(shown: list[Paper], relevant: set[int], limit: int) -> list[tuple[Paper, bool]]:
    """The papers of a digest a reader votes on, at most `limit`: the ones of their interest
    first, then the others, each in the order shown. A reader who clicks at all clicks for what
    caught their eye, a paper they want more of; "less like this" is the rarer click, on what they
    had to read past near the top."""
    liked = [(p, True) for p in shown if p.pk in relevant]
    disliked = [(p, False) for p in shown if p.pk not in relevant]
    return (liked + disliked)[: max(0, limit)]


def replay_day(
    readers: list[Reader],
    topics: list[Topic],
    day: date,
    papers: list[Paper],
    votes_per_day: int = VOTES_PER_DAY,
) -> DayResult:
    candidates = candidates_from_scores(compute_scores(papers, topics), {p.pk: p for p in papers})
    result = DayResult(day, {5: 0.0, 10: 0.0}, {5: 0.0, 10: 0.0})
    for reader in readers:
        relevant = {p.pk for p in papers if match_paper(reader.interest, p)}
        plain = [r.paper for r in rank(profile_of(reader.subscriber, reader.topics), candidates, set())]
        taught_profile = profile_of(reader.subscriber, reader.topics, reader.learned())
        taught = [r.paper for r in rank(taught_profile, candidates, set())]
        for k in (5, 10):
            result.topic[k] += precision(plain, relevant, k) / len(readers)
            result.learned[k] += precision(taught, relevant, k) / len(readers)
        for paper, likes in votes_cast(taught[:10], relevant, votes_per_day):  # on what they were shown
            reader.vote(paper, likes)
        reader.see(papers)  # stored by the next retrain
    return result


def summarise(results: list[DayResult], warmup: int, votes_per_day: int = VOTES_PER_DAY) -> dict:
    scored = results[warmup:] or results
    summary = {"days": len(results), "readers": len(PERSONAS), "warmup_days": warmup}
    summary["votes_per_day"] = votes_per_day
    for k in (5, 10):
        topic = statistics.fmean(r.topic[k] for r in scored)
        learned = statistics.fmean(r.learned[k] for r in scored)
        summary[f"topic_p{k}"] = round(topic, 4)
        summary[f"learned_p{k}"] = round(learned, 4)
        summary[f"lift_p{k}"] = round(learned - topic, 4)
        summary[f"ratio_p{k}"] = round(learned / topic, 3) if topic else None
    return summary


def seed_reader(reader: Reader, pool: list[Paper], topics: list[Topic], count: int) -> list[Paper]:
    """Sign-up: the reader rates `count` papers of `pool`, one at a time, each chosen by the
    sign-up page's chooser with the model the previous answers trained; "more like this" for a
    paper of their hidden interest, "less" for any other. Returns the papers rated, in order."""
    rated: list[Paper] = []
    for _ in range(count):
        picks = choose_papers_to_rate(
            pool,
            topics,
            keywords=reader.subscriber.keywords,
            learned=reader.learned(),
            rated={p.pk for p in rated},
            count=count - len(rated),
        )
        if not picks:
            break
        paper = picks[0].paper
        reader.vote(paper, bool(match_paper(reader.interest, paper)))
        rated.append(paper)
    return rated


def seed_informed(reader: Reader, pool: list[Paper], topics: list[Topic], count: int) -> list[Paper]:
    """Sign-up as no chooser can do it: `count // 2` papers of the hidden interest (the most
    upvoted, as many as the week has), the rest on the reader's topics but not of the interest
    (the dislikes that teach the most), then any other papers. A bound, not a product feature."""
    scores = compute_scores(pool, topics)["papers"]
    keys = {str(t.pk) for t in reader.topics}
    by_upvotes = sorted(pool, key=lambda p: (-p.upvotes, p.arxiv_id))
    liked = [p for p in by_upvotes if match_paper(reader.interest, p)][: count // 2]
    others = [p for p in by_upvotes if p not in liked and not match_paper(reader.interest, p)]
    others.sort(key=lambda p: not keys & set(scores[str(p.pk)]["topics"]))  # on-topic first, stable
    rated = liked + others[: count - len(liked)]
    for paper in rated:
        reader.vote(paper, paper in liked)
    return rated


# How a simulated reader's sign-up papers are chosen: by the product's chooser, or knowing the
# hidden interest (the upper bound).
RATERS = {"chooser": seed_reader, "informed": seed_informed}


@dataclass
class ColdStart:
    """Precision@k of the learned ranking over each sign-up's first days, with and without the
    sign-up ratings; plus the topic-only ranking for reference."""

    rated: int
    votes_per_day: int = VOTES_PER_DAY
    rater: str = "chooser"
    signups: list[date] = field(default_factory=list)
    topic: dict[int, list[float]] = field(default_factory=lambda: {5: [], 10: []})
    unseeded: dict[int, list[float]] = field(default_factory=lambda: {5: [], 10: []})
    seeded: dict[int, list[float]] = field(default_factory=lambda: {5: [], 10: []})
    likes_at_signup: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        figures: dict = {"cold_start": self.rated, "votes_per_day": self.votes_per_day, "rater": self.rater}
        figures |= {"signups": len(self.signups), "readers": len(PERSONAS)}
        figures["likes_at_signup"] = round(statistics.fmean(self.likes_at_signup or [0]), 2)
        for k in (5, 10):
            topic, before, after = (statistics.fmean(v[k]) for v in (self.topic, self.unseeded, self.seeded))
            figures[f"topic_p{k}"] = round(topic, 4)
            figures[f"n0_p{k}"] = round(before, 4)
            figures[f"n{self.rated}_p{k}"] = round(after, 4)
            figures[f"ratio_p{k}"] = round(after / before, 3) if before else None
        return figures


def load_days(path: Path, first: date, count: int) -> list[tuple[date, list[Paper]]]:
    """The RECENT_DAYS of listings before `first` (what a reader signing up then is asked
    about) and `count` listing days from `first` on, with ids unique across all of them."""
    return list(archive_days(path, first - timedelta(days=RECENT_DAYS), count + RECENT_DAYS))


def cold_start(
    path: Path,
    first: date,
    signups: int,
    days: int,
    rated: int,
    votes_per_day: int = VOTES_PER_DAY,
    rater: str = "chooser",
) -> ColdStart:
    """Readers sign up on `signups` dates, `days` listing days apart from `first` on (so their
    first weeks do not overlap); each is replayed over their first `days` listing days twice:
    after rating `rated` papers of the week before signing up, and after rating none. Both cast
    at most `votes_per_day` votes a day on their digests. `rater`: a key of RATERS."""
    topics = default_topics()
    loaded = load_days(path, first, signups * days)
    figures = ColdStart(rated, votes_per_day, rater)
    seed = RATERS[rater]
    replay = [(day, papers) for day, papers in loaded if day >= first]
    for n in range(signups):
        week = replay[n * days : (n + 1) * days]
        if len(week) < days:
            break
        signup = week[0][0]
        pool = [
            paper
            for day, papers in loaded
            if signup - timedelta(days=RECENT_DAYS) <= day < signup
            for paper in papers
        ]
        figures.signups.append(signup)
        plain, seeded = make_readers(topics, max_papers=10), make_readers(topics, max_papers=10)
        for reader in plain + seeded:
            reader.see(pool)  # the week before sign-up is in the store
        for reader in seeded:
            votes = seed(reader, pool, reader.topics, rated)
            figures.likes_at_signup.append(sum(1 for p in votes if match_paper(reader.interest, p)))
        results = [
            (
                replay_day(plain, topics, d, ps, votes_per_day),
                replay_day(seeded, topics, d, ps, votes_per_day),
            )
            for d, ps in week
        ]
        for k in (5, 10):
            figures.topic[k].append(statistics.fmean(r.topic[k] for r, _ in results))
            figures.unseeded[k].append(statistics.fmean(r.learned[k] for r, _ in results))
            figures.seeded[k].append(statistics.fmean(r.learned[k] for _, r in results))
    return figures
