"""Anymail's ESP webhook views, mounted at /esp/anymail/ and served only with a secret.

Anymail checks HTTP basic auth against ANYMAIL["WEBHOOK_SECRET"] but serves anyone when it is
empty (with a warning); here an empty secret refuses every post instead, so the ledger can never
be written by a stranger, whatever email backend is configured.
"""

import json
import logging
from collections.abc import Callable
from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
)
from django.urls import URLPattern

logger = logging.getLogger(__name__)


def require_webhook_secret(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            return HttpResponseForbidden("ESP webhooks are off: set ANYMAIL_WEBHOOK_SECRET (user:password).")
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            # Django would answer 400; a wrong secret or signature is an authentication failure.
            if "basic auth" in str(exc):
                response = HttpResponse("Wrong or missing webhook credentials.", status=401)
                response["WWW-Authenticate"] = 'Basic realm="Paperboy ESP webhooks"'
                return response
            return HttpResponseForbidden("Webhook signature does not match.")
        except AnymailConfigurationError:
            # Every ESP's URL is mounted; one whose keys are not set is not in use here.
            return HttpResponseNotFound("This ESP's webhook is not configured.")
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
            # An authenticated body that is not the ESP's JSON trips Anymail's parsers (found by
            # fuzzing): a clear 400, logged with its trace. Database errors still answer 500, so
            # the ESP retries those.
            logger.exception("malformed ESP webhook payload")
            return HttpResponseBadRequest("Malformed webhook payload.")

    return wrapped


urlpatterns = [
    URLPattern(p.pattern, require_webhook_secret(p.callback), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if isinstance(p, URLPattern)
]
