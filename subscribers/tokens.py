"""Signed links: one salt per purpose, naming the subscriber's opaque id, never the address.

Nothing is stored for a link except the confirmation nonce, which makes a confirm link work once.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import get_script_prefix, get_urlconf, reverse

from config.ids import id_from
from subscribers.models import Subscriber


@dataclass(frozen=True)
class Purpose:
    salt: str
    max_age: timedelta


CONFIRM = Purpose("paperboy.subscribers.confirm", timedelta(days=7))
MANAGE = Purpose("paperboy.subscribers.manage", timedelta(days=30))
# Digests are read weeks late; RFC 8058 asks that the link keep working, so a year.
UNSUBSCRIBE = Purpose("paperboy.subscribers.unsubscribe", timedelta(days=365))


class TokenProblem(enum.Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


class TokenError(Exception):
    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@lru_cache(maxsize=64)
def _signer(salt: str, secret_key: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=salt)


def sign(payload: object, salt: str) -> str:
    """signing.dumps(payload, salt=salt) with one signer per salt (and secret key): a digest
    signs a dozen links, and building a signer each time was a quarter of the cost."""
    return _signer(salt, settings.SECRET_KEY).sign_object(payload)


def make_token(purpose: Purpose, subscriber: Subscriber) -> str:
    payload: dict[str, str] = {"s": subscriber.public_id.hex}
    if purpose is CONFIRM:
        payload["n"] = subscriber.confirm_nonce
    return sign(payload, purpose.salt)


def _load(salt: str, token: str, max_age: timedelta | None) -> tuple[dict, Subscriber]:
    """The signed payload and the subscriber it names; TokenError says why not (tampered,
    expired, or the subscriber's data was erased)."""
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenError(TokenProblem.EXPIRED) from exc
    except signing.BadSignature as exc:
        raise TokenError(TokenProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        raise TokenError(TokenProblem.INVALID)
    try:
        return payload, Subscriber.objects.get(public_id=payload["s"])
    except (Subscriber.DoesNotExist, ValidationError, ValueError) as exc:
        raise TokenError(TokenProblem.INVALID) from exc


def read_token(purpose: Purpose, token: str) -> Subscriber:
    """The subscriber a token names; TokenError says why not (tampered, expired, already used,
    or the subscriber's data was erased)."""
    payload, subscriber = _load(purpose.salt, token, purpose.max_age)
    if purpose is CONFIRM and payload.get("n") != subscriber.confirm_nonce:
        raise TokenError(TokenProblem.USED)
    return subscriber


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


_TOKEN_SPOT = "tokenspot"  # noqa: S105 (a placeholder in a path, not a secret)


@lru_cache(maxsize=64)
def _route(name: str, script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    path = reverse(name, urlconf=urlconf, args=[_TOKEN_SPOT])
    before, after = path.split(_TOKEN_SPOT)
    return before, after


def token_url(name: str, token: str) -> str:
    """The absolute URL of route `name` for a signed token: reverse() once per route, then
    string joins. A digest holds a dozen signed links, and reverse() cost more than signing
    them. Tokens need no quoting (URL-safe base64 and ':', as reverse() leaves them)."""
    # Keyed by what reverse() depends on, so tests that swap URLconfs get fresh routes.
    before, after = _route(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return absolute(f"{before}{token}{after}")


def confirm_url(subscriber: Subscriber) -> str:
    return token_url("subscribers:confirm", make_token(CONFIRM, subscriber))


def manage_url(subscriber: Subscriber) -> str:
    return token_url("subscribers:manage", make_token(MANAGE, subscriber))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return token_url("subscribers:unsubscribe", make_token(UNSUBSCRIBE, subscriber))


def one_click_unsubscribe_url(subscriber: Subscriber) -> str:
    return token_url("subscribers:one-click", make_token(UNSUBSCRIBE, subscriber))


def unsubscribe_urls(subscriber: Subscriber) -> tuple[str, str]:
    """The unsubscribe page and the RFC 8058 one-click endpoint, sharing one signed token."""
    token = make_token(UNSUBSCRIBE, subscriber)
    return token_url("subscribers:unsubscribe", token), token_url("subscribers:one-click", token)


def list_unsubscribe_headers(subscriber_or_url: Subscriber | str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers for every newsletter email: for a subscriber, or with
    their one-click URL already made."""
    url = subscriber_or_url
    if isinstance(url, Subscriber):
        url = one_click_unsubscribe_url(url)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# "More / less like this" links are signed per reader and paper, and outlive old digests.
FEEDBACK = Purpose("paperboy.subscribers.feedback", timedelta(days=365))


def feedback_token(subscriber: Subscriber) -> str:
    """One token for all of a reader's "more / less like this" links: the paper goes in the
    link's query. It grants nothing the manage link beside it does not (both steer only this
    reader's ranking), and a digest signs one token instead of one per paper."""
    return sign({"s": subscriber.public_id.hex}, FEEDBACK.salt)


def feedback_links(subscriber: Subscriber, paper_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The "more like this" and "less like this" links of each paper, by paper id."""
    url = token_url("subscribers:feedback", feedback_token(subscriber))
    return {pk: (f"{url}?paper={pk}&vote=more", f"{url}?paper={pk}&vote=less") for pk in paper_ids}


def feedback_urls(subscriber: Subscriber, paper_id: int) -> tuple[str, str]:
    return feedback_links(subscriber, [paper_id])[paper_id]


def read_feedback_token(token: str, paper: str | None = None) -> tuple[Subscriber, int]:
    """The reader and paper id a feedback link names (the paper from the link's query, or from
    the token of a link made before one token served all papers); TokenError says why not."""
    payload, subscriber = _load(FEEDBACK.salt, token, FEEDBACK.max_age)
    paper_id = payload.get("p")
    if paper_id is None:
        paper_id = id_from(paper)
    if not isinstance(paper_id, int):
        raise TokenError(TokenProblem.INVALID)
    return subscriber, paper_id


FEED_SALT = "paperboy.subscribers.feed"


def feed_url(subscriber: Subscriber) -> str:
    """The reader's private feed. It never expires; rotating `feed_key` revokes it."""
    token = sign({"s": subscriber.public_id.hex, "k": subscriber.feed_key}, FEED_SALT)
    return token_url("newsletter:private-feed", token)


def read_feed_token(token: str) -> Subscriber:
    payload, subscriber = _load(FEED_SALT, token, max_age=None)
    if not payload.get("k") or subscriber.feed_key != payload["k"]:  # revoked
        raise TokenError(TokenProblem.INVALID)
    return subscriber
