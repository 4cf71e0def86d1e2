import pytest


@pytest.fixture
def no_default_topics(db):
    """Start without the migrated default topics, so a test's own topics are the only ones."""
    from subscribers.models import Topic

    Topic.objects.all().delete()
