import pytest
from django.core.cache import cache

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def send_now():
    """Run Celery tasks inline (the browser test uses a real worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def no_default_topics(db):
    """Start without the migrated default topics, so a test's own topics are the only ones."""
    from subscribers.models import Topic

    Topic.objects.all().delete()


# The browser test's fixture (headless Chromium).
from tests.browser import browser_page  # noqa: E402, F401
