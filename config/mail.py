"""Choosing the mail backend: Anymail's ESPs are configured from the environment."""

import importlib.util
import os

import environ
from django.core.exceptions import ImproperlyConfigured


def anymail_settings(esp: str, env: environ.Env) -> tuple[str, dict[str, str]]:
    """Return (EMAIL_BACKEND, ANYMAIL entries) for the ESP named by ANYMAIL_ESP.

    Every environment variable starting with the ESP's name (POSTMARK_SERVER_TOKEN,
    MAILGUN_API_KEY, AMAZON_SES_CLIENT_PARAMS, ...) is passed to Anymail as is, so any
    ESP Anymail supports works without a code change.
    """
    if esp in {"base", "base_requests", "console"} or not esp.isidentifier():
        raise ImproperlyConfigured(f"ANYMAIL_ESP={esp!r} is not an Anymail ESP.")
    if importlib.util.find_spec(f"anymail.backends.{esp}") is None:
        raise ImproperlyConfigured(f"ANYMAIL_ESP={esp!r}: Anymail has no backend of that name.")
    prefix = f"{esp.upper()}_"
    keys = {name: env.str(name) for name in os.environ if name.startswith(prefix)}
    if esp != "test" and not keys:
        raise ImproperlyConfigured(f"ANYMAIL_ESP={esp!r} needs its keys, e.g. {prefix}API_KEY.")
    return f"anymail.backends.{esp}.EmailBackend", keys
