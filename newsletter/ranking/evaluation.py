"""Does the learned ranking beat topic matching? A replay of the listing archive.

Simulated readers each pick a broad topic but care about something narrower (their hidden
interest). Day after day each is shown the top papers of two rankings of that day's listing:
topic-only, and the real ranking with the model learned from their votes so far (trained the
way `subscribers.reader_model.retrain` trains it). They vote on what the learned ranking showed:
more like a paper of their interest, less like any other. Precision@k is the share of the top k
that match the hidden interest. Everything runs in memory; nothing touches the database.
"""

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from newsletter.ranking.rank import candidates_from_scores, profile_of, rank
from papers.matching import Matcher, compile_matcher, match_paper
from papers.models import Paper
from papers.scores import compute_scores
from papers.sources.archive import read_archive
from papers.sources.hf import InvalidItem, paper_from_item
from subscribers.default_topics import DEFAULT_TOPICS
from subscribers.learning import Learned, document_stems, train
from subscribers.models import Subscriber, Topic


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

    def learned(self) -> Learned | None:
        model = train(self.liked, self.disliked, [])
        if model is None:
            return None
        return Learned(model.weights, model.bias, model.votes, tuple(self.examples[:20]))


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
        yield archive_day.day, papers
        taken += 1
        if taken >= count:
            return


def precision(shown: list[Paper], liked: set[int], k: int) -> float:
    return sum(1 for p in shown[:k] if p.pk in liked) / k


def replay_day(readers: list[Reader], topics: list[Topic], day: date, papers: list[Paper]) -> DayResult:
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
        for paper in taught[:10]:  # votes on what they were shown
            stems = document_stems(paper.title, paper.abstract, paper.ai_keywords or ())
            if paper.pk in relevant:
                reader.liked.append(stems)
                reader.examples.insert(0, (paper.title, stems))
            else:
                reader.disliked.append(stems)
    return result


def summarise(results: list[DayResult], warmup: int) -> dict:
    scored = results[warmup:] or results
    summary = {"days": len(results), "readers": len(PERSONAS), "warmup_days": warmup}
    for k in (5, 10):
        topic = statistics.fmean(r.topic[k] for r in scored)
        learned = statistics.fmean(r.learned[k] for r in scored)
        summary[f"topic_p{k}"] = round(topic, 4)
        summary[f"learned_p{k}"] = round(learned, 4)
        summary[f"lift_p{k}"] = round(learned - topic, 4)
        summary[f"ratio_p{k}"] = round(learned / topic, 3) if topic else None
    return summary
