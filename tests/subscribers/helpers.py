"""Factories and personas for the subscriber tests."""

import re
import time
from datetime import date

from django.core import mail, signing

from papers.models import Paper, PaperListing
from subscribers import forms
from subscribers.models import Status, Subscriber, Topic


def started(seconds_ago: float = 30) -> str:
    """The sign-up form's hidden start time, as a person who took `seconds_ago` to fill it."""
    return signing.dumps(time.time() - seconds_ago, salt=forms._FORM_SALT)


def signup_data(email: str, **overrides) -> dict:
    data = {
        "email": email,
        "frequency": "daily",
        "weekday": "0",
        "delivery_hour": "7",
        "time_zone": "Europe/Paris",
        "website": "",
        "started": started(),
    }
    data.update(overrides)
    return data


def make_topic(slug: str, include: str, exclude: str = "", **fields) -> Topic:
    return Topic.objects.create(
        slug=slug,
        name=fields.pop("name", slug.title()),
        include_terms=include,
        exclude_terms=exclude,
        **fields,
    )


def make_subscriber(email: str, status: str = Status.ACTIVE, topics=(), **fields) -> Subscriber:
    subscriber = Subscriber.objects.create(email=email, status=status, confirm_nonce="n" * 32, **fields)
    subscriber.topics.set(topics)
    return subscriber


def make_paper(
    arxiv_id: str, title: str, upvotes: int = 10, listed: date = date(2025, 3, 5), **fields
) -> Paper:
    paper = Paper.objects.create(
        arxiv_id=arxiv_id, title=title, upvotes=upvotes, first_listed_on=listed, **fields
    )
    PaperListing.objects.create(paper=paper, listed_on=listed)
    return paper


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def only_message():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]
