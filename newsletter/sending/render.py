"""Turning a ranked digest into the email a reader gets (and the page "view in browser" shows):
one render per edition, each reader's email assembled from per-paper blocks (newsletter.sending.context
says what goes in them)."""

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.safestring import mark_safe

from config.emails import checked_headers, render_parts
from newsletter.models import Delivery, Edition
from newsletter.ranking.rank import Ranked
from newsletter.sending.context import (
    digest_headers,
    heading,
    number_of,
    own_and_trending,
    paper_context,
    personal_values,
    reader_links,
    shared_context,
    with_feedback,
)
from newsletter.sending.mime import DigestEmail
from papers.models import Paper
from subscribers.followups import News
from subscribers.models import Subscriber

# --- slots ------------------------------------------------------------------------------------
# The send path renders the templates with slots where the per-reader parts go, and fills them in
# per reader. The slot marker is random per process, so no text from a paper can fake one.
_SLOT_MARK = f"pbslot{secrets.token_hex(8)}"
_SLOT = re.compile(rf"{_SLOT_MARK}\.(\w+)\.{_SLOT_MARK}")
_BLOCK_MARK = f"<!--{_SLOT_MARK}.block.{_SLOT_MARK}-->"
RENDER_CACHE_SIZE = 256


def slot(name: str) -> str:
    return f"{_SLOT_MARK}.{name}.{_SLOT_MARK}"


class Slotted:
    """A text with named slots, split once so that filling it in is one join."""

    def __init__(self, text: str) -> None:
        self.parts = _SLOT.split(text)  # literal, slot name, literal, slot name, ..., literal

    def fill(self, values: Mapping[str, str]) -> str:
        parts = self.parts
        return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))


def html_escape(value: str) -> str:
    """Escape a value filled into the HTML as the inliner writes text and attributes (so a
    filled-in digest matches a rendered one): &, <, >, " and no-break spaces. Safe in text
    and in the double-quoted attributes the inliner writes. Chained replace() calls, each a
    scan in C, not str.translate(), which maps character by character: escaping a digest's
    thirty values that way was 8% of a worker's time."""
    if "&" in value:  # first, or the entities below would be escaped again
        value = value.replace("&", "&amp;")
    return value.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\xa0", "&nbsp;")


def paper_fingerprint(paper: Paper) -> tuple:
    """Everything of a paper the templates show, so a changed paper is rendered again."""
    p = paper
    return (p.pk, p.arxiv_id, p.title, tuple(map(str, p.authors)), p.ai_summary, p.abstract, p.upvotes,
            p.github_repo, p.project_page)  # fmt: skip


def _edition_key(edition: Edition, weekly: bool) -> tuple:
    return (edition.pk, edition.listed_on, edition.curator_note, weekly, settings.SITE_URL,
            settings.POSTAL_ADDRESS)  # fmt: skip


def _cached(cache: OrderedDict, key: tuple, make: Callable[[], Any]) -> Any:
    """A per-process LRU cache of renders."""
    found = cache.get(key)
    if found is None:
        found = cache[key] = make()
        if len(cache) > RENDER_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return found


# --- one render per edition: a reader's digest is assembled from per-paper blocks -------------
# Readers' digests differ in which of the edition's papers they hold, in what order, and why. The
# templates are rendered (and the CSS inlined) once for all the papers a chunk may send, with a
# marker before each paper's block; a reader's digest is the head, their papers' blocks and the
# tail, with the slots (counts, reasons, address, signed links) filled in. A block depends on its
# paper alone (the loop body uses no forloop variables), so the result is the email the templates
# give for that reader (tests/newsletter/test_render_cache.py checks it against the one-by-one way).
@dataclass(frozen=True)
class Layout:
    head: Slotted
    blocks: dict[int, Slotted]
    trending_heading: Slotted
    tail: Slotted

    @classmethod
    def split(cls, text: str, paper_ids: list[int]) -> "Layout":
        head, *blocks, trending_heading, tail = text.split(_BLOCK_MARK)
        papers = dict(zip(paper_ids, map(Slotted, blocks), strict=True))
        return cls(Slotted(head), papers, Slotted(trending_heading), Slotted(tail))

    def assemble(self, own: list[int], trending: list[int], values: Mapping[str, str]) -> str:
        parts = [self.head.fill(values), *(self.blocks[pk].fill(values) for pk in own)]
        if trending:
            parts += [self.trending_heading.fill(values), *(self.blocks[pk].fill(values) for pk in trending)]
        return "".join(parts) + self.tail.fill(values)


@dataclass(frozen=True)
class DigestLayout:
    text: Layout
    html: Layout

    def covers(self, items: list[Ranked]) -> bool:
        return all(i.paper.pk in self.html.blocks for i in items)


_layouts: OrderedDict[tuple, DigestLayout] = OrderedDict()


def digest_layout(edition: Edition, weekly: bool, papers: Sequence[Paper]) -> DigestLayout:
    """The layout of this edition's digests for these papers, from a per-process LRU cache."""
    key = (*_edition_key(edition, weekly), tuple(paper_fingerprint(p) for p in papers))
    return _cached(_layouts, key, lambda: render_layout(edition, weekly, papers))


def render_layout(edition: Edition, weekly: bool, papers: Sequence[Paper]) -> DigestLayout:
    mark = mark_safe(_BLOCK_MARK)  # noqa: S308 (our own comment, no outside text)
    items = []
    for paper in papers:
        pk = paper.pk
        item = paper_context(Ranked(paper, 0.0, (slot(f"why{pk}"),)), number=slot(f"n{pk}"))
        items.append({**item, "more_url": slot(f"more{pk}"), "less_url": slot(f"less{pk}"), "mark": mark})
    context = {
        "subject": slot("subject"),
        "preheader": slot("preheader"),
        "lede": slot("lede"),
        "edition": edition,
        "weekly": weekly,
        "items": items,
        "trending": [],
        "layout": True,  # the trending section's heading, once, as a block of its own
        "section_mark": mark,
        "news": [],
        "end_mark": mark,
        "subscriber": SimpleNamespace(email=slot("email")),
        **{name: slot(name) for name in ("manage_url", "unsubscribe_url", "view_url")},
    }
    _, text, html = render_parts("digest", context)
    ids = [p.pk for p in papers]
    return DigestLayout(text=Layout.split(text, ids), html=Layout.split(html, ids))


def digest_values(items: list[Ranked], weekly: bool, personal: dict[str, str]) -> dict:
    """Every slot of one reader's digest, as plain text."""
    values = heading(items, weekly)
    own, trending = own_and_trending(items)
    for n, item in enumerate([*own, *trending], 1):
        pk = item.paper.pk
        values[f"why{pk}"], values[f"n{pk}"] = "; ".join(item.reasons), number_of(n, item)
    return {**values, **personal}


# --- one render per distinct digest (readers with news on papers they liked) ------------------
@dataclass(frozen=True)
class SharedDigest:
    subject: str
    text: Slotted
    html: Slotted


_rendered: OrderedDict[tuple, SharedDigest] = OrderedDict()


def shared_digest(
    edition: Edition, items: list[Ranked], weekly: bool, news: Sequence[News] = ()
) -> SharedDigest:
    """The whole digest with slots for the personal values, from a per-process LRU cache."""
    key = (
        *_edition_key(edition, weekly),
        tuple((paper_fingerprint(i.paper), i.reasons) for i in items),
        tuple((n.paper.pk, n.paper.title, n.what) for n in news),
    )

    def make() -> SharedDigest:
        context = {
            **with_feedback(shared_context(edition, items, weekly, news), slot),
            "end_mark": "",
            "section_mark": "",
            "subscriber": SimpleNamespace(email=slot("email")),
            **{name: slot(name) for name in ("manage_url", "unsubscribe_url", "view_url")},
        }
        subject, text, html = render_parts("digest", context)
        return SharedDigest(subject, Slotted(text), Slotted(html))

    return _cached(_rendered, key, make)


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
    layout: DigestLayout | None = None,
) -> EmailMultiAlternatives:
    """This reader's digest. `layout` (digest_layout) may cover more papers than `items`:
    the send path passes one for all of a chunk's candidates."""
    edition = delivery.edition
    links = reader_links(delivery, [i.paper.pk for i in items])
    personal = personal_values(delivery, links)
    if news:
        shared = shared_digest(edition, items, weekly, news)
        subject, text = shared.subject, shared.text.fill(personal)
        html = shared.html.fill({k: html_escape(v) for k, v in personal.items()})
    else:
        if layout is None or not layout.covers(items):
            layout = digest_layout(edition, weekly, [i.paper for i in items])
        values = digest_values(items, weekly, personal)
        own, trending = ([i.paper.pk for i in part] for part in own_and_trending(items))
        subject = values["subject"]
        text = layout.text.assemble(own, trending, values)
        html = layout.html.assemble(own, trending, {k: html_escape(v) for k, v in values.items()})
    message = DigestEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.subscriber.email],
        headers=checked_headers(digest_headers(delivery, links.one_click_url)),
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return tagged(message, delivery)


def is_weekly(subscriber: Subscriber) -> bool:
    return subscriber.frequency == "weekly"
