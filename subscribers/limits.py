"""Rate limits on the public forms, kept in Django's cache (Redis in production).

Per client IP: a limit a person never reaches but a script does. Per address: a daily quota of
mail, counted whatever the address's status, so the quota tells nothing about who is subscribed.
"""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the trusted proxies in front of us saw (X-Forwarded-For
    read from the right, TRUSTED_PROXY_COUNT hops), so a client cannot pick its own."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def ip_limited(request: HttpRequest, group: str) -> bool:
    """Count this request against the client's IP; true once over SUBSCRIBERS_IP_RATE."""
    return is_ratelimited(
        request,
        group=f"subscribers.ip.{group}",
        key=lambda _group, req: client_ip(req),
        rate=settings.SUBSCRIBERS_IP_RATE,
        increment=True,
    )


def address_quota_allows(email: str, group: str) -> bool:
    """Count one email of `group` to `email`; false once over SUBSCRIBERS_ADDRESS_MAIL_RATE."""
    return not is_ratelimited(
        None,
        group=f"subscribers.address.{group}",
        key=lambda _group, _req: email,
        rate=settings.SUBSCRIBERS_ADDRESS_MAIL_RATE,
        increment=True,
    )
