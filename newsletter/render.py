"""Turning a ranked digest into the email a reader gets (and the page "view in browser" shows)."""

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils.html import escape

from newsletter.emails import build_email, checked_headers, render_parts
from newsletter.models import Delivery, Edition
from newsletter.ranking import Ranked
from papers.models import Paper
from subscribers.followups import News
from subscribers.models import Subscriber
from subscribers.tokens import feedback_url, list_unsubscribe_headers, manage_url, unsubscribe_url

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


def shared_context(edition: Edition, items: list[Ranked], weekly: bool, news: Sequence[News] = ()) -> dict:
    """What every reader of these items gets alike (feedback links are slots: see shared_digest)."""
    titles = [" ".join(i.paper.title.split()) for i in items[1:3]]
    return {
        "subject": digest_subject(items, weekly),
        "preheader": truncate("Also: " + "; ".join(titles), 140) if titles else "Picked for your topics.",
        "edition": edition,
        "weekly": weekly,
        "items": [paper_context(i) for i in items],
        "news": list(news),
    }


def feedback_slots(items: list[Ranked]) -> dict[str, tuple[int, int]]:
    """The per-paper "more / less like this" links: slot name -> (paper id, vote)."""
    slots = {}
    for item in items:
        slots[f"more{item.paper.pk}"] = (item.paper.pk, 1)
        slots[f"less{item.paper.pk}"] = (item.paper.pk, -1)
    return slots


def personal_values(delivery: Delivery, items: list[Ranked] = ()) -> dict[str, str]:
    """What only this reader gets: their address and their signed links."""
    subscriber = delivery.subscriber
    values = {
        "email": subscriber.email,
        "manage_url": manage_url(subscriber),
        "unsubscribe_url": unsubscribe_url(subscriber),
        "view_url": view_url(delivery),
    }
    for name, (paper_id, vote) in feedback_slots(items).items():
        values[name] = feedback_url(subscriber, paper_id, vote)
    return values


def with_feedback(context: dict, links: Callable[[str], str]) -> dict:
    for item in context["items"]:
        pk = item["paper"].pk
        item["more_url"], item["less_url"] = links(f"more{pk}"), links(f"less{pk}")
    return context


def digest_context(delivery: Delivery, items: list[Ranked], weekly: bool, news: Sequence[News] = ()) -> dict:
    """The whole context of one reader's digest (the one-by-one way: see build_digest)."""
    values = personal_values(delivery, items)
    subscriber = SimpleNamespace(email=values.pop("email"))
    context = with_feedback(shared_context(delivery.edition, items, weekly, news), values.__getitem__)
    return {**context, "subscriber": subscriber, **values}


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


# --- one render per distinct digest ------------------------------------------------------------
# Readers sent the same papers for the same reasons get the same email but for their address and
# links. So the templates are rendered (and the CSS inlined) once per distinct digest, with slots
# where the personal values go, and each reader's copy is the slots filled in: a few string
# replacements instead of a template render. The slot marker is random per process, so no text
# from a paper can fake one.
_SLOT_MARK = f"pbslot{secrets.token_hex(8)}"
RENDER_CACHE_SIZE = 256


def slot(name: str) -> str:
    return f"{_SLOT_MARK}.{name}.{_SLOT_MARK}"


@dataclass(frozen=True)
class SharedDigest:
    subject: str
    text: str
    html: str


_rendered: OrderedDict[tuple, SharedDigest] = OrderedDict()


def paper_fingerprint(item: Ranked) -> tuple:
    """Everything of an item the templates show, so a changed paper is a different digest."""
    p = item.paper
    return (p.pk, p.arxiv_id, p.title, tuple(map(str, p.authors)), p.ai_summary, p.abstract, p.upvotes,
            p.github_repo, p.project_page, item.reasons)  # fmt: skip


def shared_digest(
    edition: Edition, items: list[Ranked], weekly: bool, news: Sequence[News] = ()
) -> SharedDigest:
    """The digest with slots for the personal values, from a per-process LRU cache."""
    key = (
        edition.pk, edition.listed_on, edition.curator_note, weekly, settings.SITE_URL,
        settings.POSTAL_ADDRESS, tuple(paper_fingerprint(i) for i in items),
        tuple((n.paper.pk, n.paper.title, n.what) for n in news),
    )  # fmt: skip
    found = _rendered.get(key)
    if found is not None:
        _rendered.move_to_end(key)
        return found
    context = {
        **with_feedback(shared_context(edition, items, weekly, news), slot),
        "subscriber": SimpleNamespace(email=slot("email")),
        **{name: slot(name) for name in ("manage_url", "unsubscribe_url", "view_url")},
    }
    found = _rendered[key] = SharedDigest(*render_parts("digest", context))
    if len(_rendered) > RENDER_CACHE_SIZE:
        _rendered.popitem(last=False)
    return found


def fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(slot(name), value)
    return template


def tagged(message: EmailMultiAlternatives, delivery: Delivery) -> EmailMultiAlternatives:
    # Anymail passes these to the ESP, which echoes them in webhooks: the id, never personal data.
    message.metadata = {"delivery_id": str(delivery.pk)}
    message.tags = ["digest"]
    return message


def build_digest(
    delivery: Delivery,
    items: list[Ranked],
    weekly: bool,
    connection: BaseEmailBackend | None = None,
    news: Sequence[News] = (),
) -> EmailMultiAlternatives:
    shared = shared_digest(delivery.edition, items, weekly, news)
    values = personal_values(delivery, items)
    message = EmailMultiAlternatives(
        subject=shared.subject,
        body=fill(shared.text, values),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.subscriber.email],
        headers=checked_headers(digest_headers(delivery)),
        connection=connection,
    )
    # Escaped for both text and attribute positions in the HTML.
    message.attach_alternative(fill(shared.html, {k: escape(v) for k, v in values.items()}), "text/html")
    return tagged(message, delivery)


def build_digest_one_by_one(
    delivery: Delivery,
    items: list[Ranked],
    weekly: bool,
    connection: BaseEmailBackend | None = None,
    news: Sequence[News] = (),
) -> EmailMultiAlternatives:
    """The same email rendered from the templates for this reader alone: the reference the
    cached path is tested against, and the benchmark's naive baseline."""
    message = build_email(
        "digest",
        digest_context(delivery, items, weekly, news),
        [delivery.subscriber.email],
        headers=digest_headers(delivery),
        connection=connection,
    )
    return tagged(message, delivery)


def is_weekly(subscriber: Subscriber) -> bool:
    return subscriber.frequency == "weekly"
