"""Skip a test whose service is missing, unless REQUIRE_SERVICES=1 makes that a failure."""

import os
import shutil
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def require(available: bool, reason: str) -> None:
    """Call at the top of a test: skip with `reason` when the service is not available."""
    if available:
        return
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")


def require_redis() -> None:
    require(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis: set REDIS_URL=redis://...")


def require_program(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"needs the program {name!r} on PATH")
    return path or ""


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until `predicate()` is truthy and return it; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {predicate}")
