"""The local outbox in the browser, for development only (DEBUG)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from newsletter.sending.outbox import list_outbox, read_outbox


def _require_debug() -> None:
    if not settings.DEBUG:
        raise Http404("The outbox is only shown when DEBUG is on.")


def outbox_list(request: HttpRequest) -> HttpResponse:
    _require_debug()
    return render(request, "newsletter/outbox_list.html", {"entries": list_outbox()})


def outbox_detail(request: HttpRequest, name: str) -> HttpResponse:
    _require_debug()
    try:
        entry = read_outbox(name)
    except FileNotFoundError:
        raise Http404("No such message.") from None
    context = {"entry": entry, "text": entry.body("plain"), "has_html": entry.body("html") is not None}
    return render(request, "newsletter/outbox_detail.html", context)


def outbox_html(request: HttpRequest, name: str) -> HttpResponse:
    _require_debug()
    try:
        html = read_outbox(name).body("html")
    except FileNotFoundError:
        html = None
    if html is None:
        raise Http404("No HTML part.")
    response = HttpResponse(html)
    # Shown in an iframe: no scripts, links open in a new tab.
    response["Content-Security-Policy"] = "sandbox allow-popups allow-popups-to-escape-sandbox"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
