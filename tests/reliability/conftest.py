import pytest
from django.conf import settings

from tests.reliability.harness import purge_broker, stop_leftovers


@pytest.fixture(autouse=True)
def _isolated_run():
    """Each run starts with an empty broker, whatever an earlier run or scenario left queued,
    and leaves no process behind."""
    if settings.CELERY_BROKER_URL.startswith("redis"):
        purge_broker()
    yield
    left = stop_leftovers()
    assert not left, f"processes left running by the test: {left}"
