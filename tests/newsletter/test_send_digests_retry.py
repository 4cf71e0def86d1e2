"""send_digests run by hand retries what a transient failure left pending, in-process, so an
operator need not wait for a worker's retry or an hour for a tick (issue 15, item 5)."""

from datetime import UTC

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from newsletter.models import Delivery
from newsletter.sending.tick import retry_lost_after
from tests.newsletter.personas import DAY, a_day_of_papers, alice, bob
from tests.smtp import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The pauses between retry rounds, recorded rather than slept."""
    slept: list[float] = []
    monkeypatch.setattr("newsletter.sending.tick.sleep", slept.append)
    return slept


class RefuseOnce(dict):
    """smtp_server.refuse answering each address's first RCPT only: a server that fails the
    first attempt and works afterwards."""

    def __getitem__(self, address: str) -> str:
        return self.pop(address)


def send_digests(capsys, *args: str) -> tuple[str, str]:
    call_command("send_digests", "--date", DAY.isoformat(), "--now", *args)
    out, err = capsys.readouterr()
    return out.strip(), err.strip()


def statuses() -> dict[str, str]:
    return dict(Delivery.objects.values_list("subscriber__email", "status"))


def test_a_second_run_sends_what_the_mail_server_left_pending_exactly_once(
    smtp_server, settings, capsys, pauses
):
    a, b = alice(), bob()
    a_day_of_papers()
    server_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nothing listens: down
    out, err = send_digests(capsys)
    assert out == "edition 2026-03-04: due 2, queued 2, sent 0, skipped 0, failed 0, retry 2, unknown 0"
    assert statuses() == {a.email: "pending", b.email: "pending"}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {3}  # the tick, two rounds
    assert pauses == [10.0, 10.0]
    tick_at = Delivery.objects.aggregate(last=Max("claimed_at"))["last"] + retry_lost_after()
    assert err == (
        "2 digests still wait after a transient failure (is the mail server down?): rerun this"
        f" command to retry them now, or a tick retries them from {tick_at.astimezone(UTC):%Y-%m-%d %H:%M}"
        " UTC."
    )

    settings.EMAIL_PORT = server_port  # the mail server is back
    out, err = send_digests(capsys)
    assert out == "edition 2026-03-04: due 0, queued 0, sent 2, skipped 0, failed 0, retry 0, unknown 0"
    assert err == ""
    assert pauses == [10.0, 10.0]  # an earlier run's rows are retried at once
    assert sorted(m["To"] for m in smtp_server.messages) == [a.email, b.email]
    assert statuses() == {a.email: "sent", b.email: "sent"}

    out, _ = send_digests(capsys)
    assert "queued 0, sent 0" in out and "retry 0" in out
    assert len(smtp_server.messages) == 2


def test_one_run_sends_everything_when_only_the_first_attempt_fails(smtp_server, capsys, pauses):
    a, b = alice(), bob()
    a_day_of_papers()
    smtp_server.refuse = RefuseOnce(dict.fromkeys([a.email, b.email], "451 4.3.0 Try again later"))
    out, err = send_digests(capsys)
    assert out == "edition 2026-03-04: due 2, queued 2, sent 2, skipped 0, failed 0, retry 0, unknown 0"
    assert err == ""
    assert pauses == [10.0]  # once, after the transient failure
    assert sorted(m["To"] for m in smtp_server.messages) == [a.email, b.email]
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {2}


def test_no_retry_rounds_leaves_the_rows_pending(smtp_server, settings, capsys, pauses):
    alice()
    a_day_of_papers()
    settings.EMAIL_PORT = free_port()
    out, err = send_digests(capsys, "--retries", "0")
    assert out.endswith("sent 0, skipped 0, failed 0, retry 1, unknown 0")
    assert err.startswith("1 digest still waits after a transient failure")
    assert "retry it now, or a tick retries it from" in err
    assert Delivery.objects.get().attempts == 1
    assert pauses == []


def test_rows_a_worker_is_sending_are_left_to_it(smtp_server, settings, capsys, pauses):
    a, b = alice(), bob()
    a_day_of_papers()
    server_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()
    send_digests(capsys, "--retries", "0")
    # A worker claims bob's row meanwhile: only it may send or settle it.
    Delivery.objects.filter(subscriber=b).update(
        status=Delivery.Status.SENDING, claim_token="worker", claimed_at=timezone.now()
    )
    settings.EMAIL_PORT = server_port
    out, _ = send_digests(capsys)
    assert "queued 0, sent 1," in out
    assert [m["To"] for m in smtp_server.messages] == [a.email]
    assert statuses() == {a.email: "sent", b.email: "sending"}
