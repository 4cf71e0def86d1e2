import pytest
from django.core.cache import cache

# Celery tasks inline, and the browser fixture (headless Chromium).
from tests.browser import browser_page  # noqa: F401

# A local server standing in for huggingface.co.
from tests.papers.conftest import hf, httpserver_listen_address  # noqa: F401
from tests.subscribers.conftest import send_now  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _a_curator(settings):
    settings.ADMINS = [("Curator", "curator@example.test")]
