import pytest


@pytest.fixture(autouse=True)
def _outbox_in_tmp(settings, tmp_path):
    """Each test gets its own outbox folder."""
    settings.OUTBOX_DIR = tmp_path / "outbox"


# A real SMTP server for any test that asks for it.
from tests.smtp import smtp_server  # noqa: E402, F401
