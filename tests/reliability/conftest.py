from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.postfix import require_postfix
from tests.reliability.harness import SlowPostfix, SlowSmtp, purge_broker, stop_leftovers


@pytest.fixture(autouse=True)
def _isolated_run():
    """Each run starts with an empty broker, whatever an earlier run or scenario left queued,
    and leaves no process behind."""
    if settings.CELERY_BROKER_URL.startswith("redis"):
        purge_broker()
    yield
    left = stop_leftovers()
    assert not left, f"processes left running by the test: {left}"


@pytest.fixture(params=["aiosmtpd", "postfix"])
def mail_server(request) -> Iterator:
    """A factory for a scenario's SMTP server, each scenario running once against aiosmtpd and
    once against Debian's Postfix: `mail_server(delay=0.05)` is started and answers each dot
    `delay` seconds late; `mail_server(start=False)` is down until the test starts it."""
    made: list[SlowSmtp | SlowPostfix] = []

    def make(delay: float = 0.05, start: bool = True) -> SlowSmtp | SlowPostfix:
        if request.param == "postfix":
            require_postfix()
        server = SlowPostfix(delay) if request.param == "postfix" else SlowSmtp(delay)
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        server.remove()
