"""A day of ticks on a real worker: three readers in three time zones each get exactly one
digest, at their own hour, through a real SMTP server. In CI: PostgreSQL and Redis."""

from datetime import UTC, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from newsletter.models import Delivery, Heartbeat
from newsletter.tasks import digest_tick_task, heartbeat_task, send_chunk_task
from tests.newsletter.personas import a_day_of_papers, alice, bob, carol, released_edition
from tests.services import wait_for


def drained() -> bool:
    return not Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]).exists()


def worker_idle(marker: str) -> bool:
    """The solo worker runs tasks in order: once a heartbeat sent now is done, so is all before it."""
    heartbeat_task.delay(marker)
    return wait_for(lambda: Heartbeat.objects.filter(source=marker).exists())


@pytest.mark.django_db(transaction=True)
def test_a_day_of_ticks_sends_each_reader_one_digest_at_their_hour(smtp_server, time_machine):
    readers = {"alice": alice(), "bob": bob(), "carol": carol(weekday=3)}
    a_day_of_papers()
    released_edition(at=datetime(2026, 3, 4, 20, 0, tzinfo=UTC))
    expected = {  # local delivery hour, in UTC
        "carol": datetime(2026, 3, 4, 22, 0, tzinfo=UTC),  # Thursday 07:00 Tokyo (weekly, Thursdays)
        "alice": datetime(2026, 3, 5, 7, 0, tzinfo=UTC),  # 08:00 Paris
        "bob": datetime(2026, 3, 5, 12, 0, tzinfo=UTC),  # 07:00 New York
    }
    received_at: dict[str, datetime] = {}
    now = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        while now <= datetime(2026, 3, 5, 20, 0, tzinfo=UTC):
            time_machine.move_to(now, tick=False)
            digest_tick_task.apply()  # the beat tick; its chunks go to the real worker
            assert wait_for(drained), f"deliveries still in flight at {now}"
            for name, subscriber in readers.items():
                if name not in received_at and smtp_server.to(subscriber.email):
                    received_at[name] = now
            now += timedelta(minutes=15)
        assert received_at == expected
        assert all(len(smtp_server.to(r.email)) == 1 for r in readers.values())

        # A rerun tick and a chunk redelivered by the broker send nothing more.
        digest_tick_task.apply()
        send_chunk_task.delay(list(Delivery.objects.values_list("pk", flat=True)))
        assert worker_idle("after-redelivery")
    assert len(smtp_server.messages) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
