"""Reading settings from the environment with their checks: a bad value fails at start-up, with
the variable's name, rather than at the first request that uses it."""

import re

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def rate_setting(name: str, default: str) -> str:
    """A rate in django-ratelimit's "N/s|m|h|d" form (20/h, 3/d, 10/m)."""
    rate = env.str(name, default=default)
    if not re.fullmatch(r"\d+/\d*[smhd]", rate):
        raise ImproperlyConfigured(f"{name} must look like 20/h or 3/d, not {rate!r}.")
    return rate


def hour_setting(name: str, default: int) -> int:
    hour = env.int(name, default=default)
    if not 0 <= hour <= 23:
        raise ImproperlyConfigured(f"{name} must be an hour from 0 to 23.")
    return hour
