"""Papers, topics and readers for the digest tests, named so tests read like stories.

- alice: daily, Video and Diffusion topics, Paris, 8:00.
- bob: daily, Robotics topic, excludes "simulation", New York, 7:00.
- carol: weekly on Mondays, follows "Yann LeCun", Tokyo, 7:00, asked for trending papers.
"""

from datetime import UTC, date, datetime

from newsletter.models import Edition
from newsletter.sending.editions import build_edition
from papers.models import Paper, PaperListing
from subscribers.models import Status, Subscriber, Topic

DAY = date(2026, 3, 4)  # a Wednesday


def paper(arxiv_id: str, title: str, upvotes: int = 10, day: date = DAY, **fields) -> Paper:
    fields.setdefault(
        "abstract", f"We study {title.lower()}. Results are strong. Code is released. More text."
    )
    fields.setdefault("authors", ["Ada Lovelace", "Alan Turing"])
    created = Paper.objects.create(
        arxiv_id=arxiv_id, title=title, upvotes=upvotes, first_listed_on=day, **fields
    )
    PaperListing.objects.create(paper=created, listed_on=day)
    return created


def topic(slug: str, include: str, exclude: str = "") -> Topic:
    """A topic defined by its terms alone. Its slug is one the topic classifier was never trained
    on ("video-terms"), so it matches by its terms (papers.scores): these stories are about
    ranking and sending, with papers made up for them. The default topic of the same slug, when
    there is one, is taken over, so the name readers see stays ("Video")."""
    term_slug = f"{slug}-terms"
    found = Topic.objects.filter(slug__in=[slug, term_slug]).first()
    if found:
        found.slug, found.include_terms, found.exclude_terms, found.active = term_slug, include, exclude, True
        found.save()
        return found
    return Topic.objects.create(
        slug=term_slug, name=slug.replace("-", " ").title(), include_terms=include, exclude_terms=exclude
    )


def reader(email: str, topics=(), **fields) -> Subscriber:
    fields.setdefault("status", Status.ACTIVE)
    fields.setdefault("confirmed_at", datetime(2026, 1, 1, tzinfo=UTC))
    fields.setdefault("include_trending", False)
    subscriber = Subscriber.objects.create(email=email, confirm_nonce="n" * 32, **fields)
    subscriber.topics.set(topics)
    return subscriber


def video() -> Topic:
    return topic("video", "video generation, text-to-video")


def diffusion() -> Topic:
    return topic("diffusion", "diffusion models")


def robotics() -> Topic:
    return topic("robotics", "robot, embodied")


def alice(**fields) -> Subscriber:
    fields = {"time_zone": "Europe/Paris", "delivery_hour": 8, **fields}
    return reader("alice@example.test", [video(), diffusion()], **fields)


def bob(**fields) -> Subscriber:
    fields = {
        "time_zone": "America/New_York",
        "delivery_hour": 7,
        "excluded_keywords": ["simulation"],
        **fields,
    }
    return reader("bob@example.test", [robotics()], **fields)


def carol(**fields) -> Subscriber:
    fields = {
        "time_zone": "Asia/Tokyo",
        "delivery_hour": 7,
        "frequency": "weekly",
        "weekday": 3,
        "followed_authors": ["Yann LeCun"],
        "include_trending": True,
        **fields,
    }
    return reader("carol@example.test", [], **fields)


def a_day_of_papers(day: date = DAY) -> dict[str, Paper]:
    suffix = f"{day:%m%d}"
    return {
        "video": paper(f"2603.{suffix}1", "Text-to-Video Generation with Diffusion Models", 212, day),
        "diffusion": paper(f"2603.{suffix}2", "A Diffusion Model for Weather", 40, day),
        "robot": paper(f"2603.{suffix}3", "Embodied Robot Learning at Scale", 90, day),
        "sim": paper(f"2603.{suffix}4", "Robot Simulation Benchmarks", 150, day),
        "lecun": paper(f"2603.{suffix}5", "World Models", 5, day, authors=["Yann LeCun", "Someone Else"]),
        "llm": paper(f"2603.{suffix}6", "Scaling Laws for Language Models", 300, day),
    }


def released_edition(day: date = DAY, at: datetime | None = None) -> Edition:
    edition = build_edition(day, status=Edition.Status.SCHEDULED)
    edition.released_at = at or datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=20)
    edition.save(update_fields=["released_at"])
    return edition
