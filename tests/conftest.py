import os

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from config.celery import app as celery_app

# Hypothesis profiles for tests that do not set their own case count: `fuzz` keeps the normal
# suite fast, `long` (HYPOTHESIS_PROFILE=long, `make fuzz`) runs 10,000 cases per test, `medium`
# 1,000 (a whole web fuzz pass in minutes rather than an hour).
# database=None: no .hypothesis/ folder in the working tree; a failure prints its reproducer.
_fuzz = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
# The normal suite's profile is derandomized (a fixed seed): every run, and every fresh clone,
# tries the same cases; `make fuzz` draws new ones.
settings.register_profile("fuzz", max_examples=40, derandomize=True, **_fuzz)
settings.register_profile("long", max_examples=10_000, **_fuzz)
settings.register_profile("medium", max_examples=1_000, **_fuzz)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz"))


@pytest.fixture(autouse=True)
def _outbox_in_tmp(settings, tmp_path):
    """Each test gets its own outbox folder."""
    settings.OUTBOX_DIR = tmp_path / "outbox"


# A real SMTP server for any test that asks for it.
from tests.postfix import postfix  # noqa: E402, F401
from tests.smtp import paperboy_smtp, smtp_server  # noqa: E402, F401
from tests.smtp_proxy import losing_proxy  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters, the send rate and the delivery journal live in the cache; each test
    starts with none (nor with "sent" entries an earlier test left waiting in this process)."""
    from newsletter.sending import journal, send_rate

    cache.clear()
    journal._take_deferred()  # dropped, not written
    send_rate.reset()  # the send rate's bucket, in the process or in Redis
    yield
    cache.clear()
    journal._take_deferred()  # dropped, not written
    send_rate.reset()


@pytest.fixture
def send_now():
    """Run Celery tasks inline (the end-to-end tests use a real worker instead)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


# Headless Chromium for the browser tests.
from tests.browser import browser_page  # noqa: E402, F401
