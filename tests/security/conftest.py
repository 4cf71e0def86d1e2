import pytest

# A local server standing in for huggingface.co.
from tests.papers.conftest import hf, httpserver_listen_address  # noqa: F401


@pytest.fixture(autouse=True)
def _a_curator(settings):
    settings.ADMINS = [("Curator", "curator@example.test")]
