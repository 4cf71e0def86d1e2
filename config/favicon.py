"""GET /favicon.ico: browsers, feed readers and crawlers ask for it at the root whatever a page
links (the pages link the {% static %} copies, whose URLs change with their content)."""

from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# 30 days: the URL carries no content hash, so a new icon must still show within weeks.
MAX_AGE_S = 30 * 24 * 3600


@cache
def icon_bytes() -> bytes:
    with open(finders.find("favicon.ico"), "rb") as icon:
        return icon.read()


@require_safe
@cache_control(public=True, max_age=MAX_AGE_S)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(icon_bytes(), content_type="image/x-icon")


urlpatterns = [path("favicon.ico", favicon, name="favicon")]
