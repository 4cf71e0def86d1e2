"""Turning a ranked digest into the email a reader gets (and the page "view in browser" shows)."""

import re
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from newsletter.emails import build_email
from newsletter.models import Delivery, Edition
from newsletter.ranking import Ranked
from papers.models import Paper
from subscribers.models import Subscriber
from subscribers.tokens import list_unsubscribe_headers, manage_url, unsubscribe_url

SUBJECT_MAX = 78
AUTHORS_SHOWN = 3
EXCERPT_SENTENCES = 3
EXCERPT_MAX_CHARS = 480
VIEW_SALT = "paperboy.newsletter.view"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def view_url(delivery: Delivery) -> str:
    token = signing.dumps({"d": delivery.pk}, salt=VIEW_SALT)
    return f"{settings.SITE_URL}{reverse('newsletter:view', args=[token])}"


def excerpt(paper: Paper) -> str:
    """The AI summary when there is one, else the abstract's first sentences."""
    if paper.ai_summary:
        return paper.ai_summary
    sentences = _SENTENCE_END.split(paper.abstract.strip())
    text = " ".join(sentences[:EXCERPT_SENTENCES])
    if len(text) > EXCERPT_MAX_CHARS:
        text = text[: EXCERPT_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def author_line(paper: Paper) -> str:
    names = [a for a in paper.authors if isinstance(a, str)]
    shown = ", ".join(names[:AUTHORS_SHOWN])
    return f"{shown} et al." if len(names) > AUTHORS_SHOWN else shown


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def digest_subject(items: list[Ranked], weekly: bool) -> str:
    count = len(items)
    lead = f"{count} paper{'s' if count != 1 else ''} {'this week' if weekly else 'today'}: "
    return truncate(lead + " ".join(items[0].paper.title.split()), SUBJECT_MAX)


def paper_context(item: Ranked) -> dict:
    paper = item.paper
    return {
        "paper": paper,
        "authors": author_line(paper),
        "excerpt": excerpt(paper),
        "reasons": item.reasons,
    }


def digest_context(delivery: Delivery, items: list[Ranked], weekly: bool) -> dict:
    subscriber, edition = delivery.subscriber, delivery.edition
    titles = [" ".join(i.paper.title.split()) for i in items[1:3]]
    return {
        "subject": digest_subject(items, weekly),
        "preheader": truncate("Also: " + "; ".join(titles), 140) if titles else "Picked for your topics.",
        "edition": edition,
        "weekly": weekly,
        "items": [paper_context(i) for i in items],
        "subscriber": subscriber,
        "manage_url": manage_url(subscriber),
        "unsubscribe_url": unsubscribe_url(subscriber),
        "view_url": view_url(delivery),
    }


def digest_headers(delivery: Delivery) -> dict[str, str]:
    headers = list_unsubscribe_headers(delivery.subscriber)
    if settings.UNSUBSCRIBE_MAILTO:
        mailto = (
            f"<mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{delivery.subscriber.public_id.hex}>"
        )
        headers["List-Unsubscribe"] = f"{headers['List-Unsubscribe']}, {mailto}"
    domain = site_domain()
    headers["List-Id"] = f"Paperboy digest <digest.{domain}>"
    headers["Message-ID"] = make_msgid(idstring=f"digest.{delivery.pk}", domain=domain)
    headers["X-Paperboy-Delivery"] = str(delivery.pk)
    return headers


def build_digest(
    delivery: Delivery, items: list[Ranked], weekly: bool, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    context = digest_context(delivery, items, weekly)
    message = build_email(
        "digest",
        context,
        [delivery.subscriber.email],
        headers=digest_headers(delivery),
        connection=connection,
    )
    # Anymail passes these to the ESP, which echoes them in webhooks: the id, never personal data.
    message.metadata = {"delivery_id": str(delivery.pk)}
    message.tags = ["digest"]
    return message


def is_weekly(subscriber: Subscriber) -> bool:
    return subscriber.frequency == "weekly"


def public_context(edition: Edition, items: list[Ranked]) -> dict:
    return {"edition": edition, "items": [paper_context(i) for i in items]}
