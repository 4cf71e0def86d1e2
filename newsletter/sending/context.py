"""What a digest says: its subject, each paper's text, the reader's links and headers."""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings

from newsletter.models import Delivery, Edition
from newsletter.ranking.rank import Ranked
from papers.models import Paper
from subscribers.followups import News
from subscribers.tokens import (
    feedback_links,
    list_unsubscribe_headers,
    manage_url,
    sign,
    token_url,
    unsubscribe_urls,
)

SUBJECT_MAX = 78
AUTHORS_SHOWN = 3
EXCERPT_SENTENCES = 3
EXCERPT_MAX_CHARS = 480
VIEW_SALT = "paperboy.newsletter.view"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def view_url(delivery: Delivery) -> str:
    return token_url("newsletter:view", sign({"d": delivery.pk}, VIEW_SALT))


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


def own_and_trending(items: list[Ranked]) -> tuple[list[Ranked], list[Ranked]]:
    """The reader's own picks, then the trending ones shown apart after them."""
    return [i for i in items if not i.trending], [i for i in items if i.trending]


def count_label(count: int) -> str:
    return f"{count} paper{'s' if count != 1 else ''}"


def digest_subject(own: list[Ranked], trending: list[Ranked], weekly: bool) -> str:
    """Counts and names the reader's own picks; a digest of trending papers only says so."""
    when = "this week" if weekly else "today"
    lead = f"{count_label(len(own))} {when}: " if own else f"Trending {when}: "
    return truncate(lead + " ".join((own or trending)[0].paper.title.split()), SUBJECT_MAX)


def paper_context(item: Ranked, number: int | str = 1) -> dict:
    paper = item.paper
    return {
        "paper": paper,
        "authors": author_line(paper),
        "excerpt": excerpt(paper),
        "reasons": item.reasons,
        "number": number,
    }


def number_of(position: int, item: Ranked) -> str:
    """What stands before a paper's title in the text part: its rank among the reader's own
    picks ("2. "), or a dash for a trending one, which is not ranked among them."""
    return "- " if item.trending else f"{position}. "


def heading(items: list[Ranked], weekly: bool) -> dict[str, str]:
    """The subject, preheader and opening line of a digest of these items: the reader's own
    picks first, trending ones after."""
    own, trending = own_and_trending(items)

    def title(item: Ranked) -> str:
        return " ".join(item.paper.title.split())

    more = [title(i) for i in own[1:3]]
    more += [f"trending: {title(i)}" for i in (trending if own else trending[1:])][: 2 - len(more)]
    when = "this week" if weekly else "today"
    if own:
        lede = f"{count_label(len(own))} from the Hugging Face Daily Papers, picked for your topics"
        lede += f", and {len(trending)} trending {when}." if trending else "."
    else:
        lede = f"Nothing on your topics {when}; the {count_label(len(trending))} trending most."
    return {
        "subject": digest_subject(own, trending, weekly),
        "preheader": truncate("Also: " + "; ".join(more), 140) if more else "Picked for your topics.",
        "lede": lede,
    }


def shared_context(edition: Edition, items: list[Ranked], weekly: bool, news: Sequence[News] = ()) -> dict:
    """What every reader of these items gets alike (feedback links are slots: see shared_digest)."""
    own, trending = own_and_trending(items)
    return {
        **heading(items, weekly),
        "edition": edition,
        "weekly": weekly,
        "items": [paper_context(item, number_of(n, item)) for n, item in enumerate(own, 1)],
        "trending": [paper_context(item, number_of(0, item)) for item in trending],
        "news": list(news),
    }


@dataclass(frozen=True)
class Links:
    """One reader's signed links in a digest: each token signed once."""

    manage_url: str
    unsubscribe_url: str
    one_click_url: str
    view_url: str
    feedback: dict[int, tuple[str, str]]  # paper id -> (more like this, less like this)


def reader_links(delivery: Delivery, paper_ids: Iterable[int] = ()) -> Links:
    subscriber = delivery.subscriber
    unsubscribe, one_click = unsubscribe_urls(subscriber)
    return Links(
        manage_url=manage_url(subscriber),
        unsubscribe_url=unsubscribe,
        one_click_url=one_click,
        view_url=view_url(delivery),
        feedback=feedback_links(subscriber, paper_ids),
    )


def personal_values(delivery: Delivery, links: Links) -> dict[str, str]:
    """What only this reader gets, by slot name: their address and their signed links."""
    values = {
        "email": delivery.subscriber.email,
        "manage_url": links.manage_url,
        "unsubscribe_url": links.unsubscribe_url,
        "view_url": links.view_url,
    }
    for pk, (more, less) in links.feedback.items():
        values[f"more{pk}"], values[f"less{pk}"] = more, less
    return values


def with_feedback(context: dict, links: Callable[[str], str]) -> dict:
    for item in [*context["items"], *context["trending"]]:
        pk = item["paper"].pk
        item["more_url"], item["less_url"] = links(f"more{pk}"), links(f"less{pk}")
    return context


def digest_context(delivery: Delivery, items: list[Ranked], weekly: bool, news: Sequence[News] = ()) -> dict:
    """The whole context of one reader's digest (the one-by-one way: see build_digest)."""
    values = personal_values(delivery, reader_links(delivery, [i.paper.pk for i in items]))
    subscriber = SimpleNamespace(email=values.pop("email"))
    context = with_feedback(shared_context(delivery.edition, items, weekly, news), values.__getitem__)
    return {**context, "subscriber": subscriber, **values}


def digest_message_id(delivery: Delivery, domain: str) -> str:
    """The same for every attempt at one digest (its ledger row), so if a send whose reply was
    lost is ever sent again, mail clients fold the two copies into one. The reader's random
    public id keeps it unique across installs that share a domain."""
    return f"<digest.{delivery.pk}.{delivery.subscriber.public_id.hex[:16]}@{domain}>"


def digest_headers(delivery: Delivery, one_click_url: str) -> dict[str, str]:
    headers = list_unsubscribe_headers(one_click_url)
    if settings.UNSUBSCRIBE_MAILTO:
        mailto = (
            f"<mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{delivery.subscriber.public_id.hex}>"
        )
        headers["List-Unsubscribe"] = f"{headers['List-Unsubscribe']}, {mailto}"
    domain = site_domain()
    headers["List-Id"] = f"Paperboy digest <digest.{domain}>"
    headers["Message-ID"] = digest_message_id(delivery, domain)
    headers["X-Paperboy-Delivery"] = str(delivery.pk)
    return headers
