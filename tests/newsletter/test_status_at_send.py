"""A reader who stops mail after the tick queued their digest, and before its chunk runs, gets
nothing: the chunk's claim asks subscribers.status again (issue 13's bug)."""

from datetime import UTC, datetime

import pytest

from newsletter.models import Delivery
from newsletter.sending.delivery import send_chunk
from newsletter.sending.tick import run_tick
from subscribers import services, status
from subscribers.models import Status
from tests.newsletter.personas import a_day_of_papers, alice, reader, released_edition, topic

pytestmark = pytest.mark.django_db
RELEASED = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def queued_for(reader) -> list[int]:
    """Run the tick, keep its chunks unsent: the window in which the reader acts."""
    a_day_of_papers()
    chunks: list[list[int]] = []
    run_tick(datetime(2026, 3, 5, 13, tzinfo=UTC), chunks.append, released_edition(at=RELEASED), True)
    assert Delivery.objects.filter(subscriber=reader, status=Delivery.Status.PENDING).count() == 1
    return [pk for chunk in chunks for pk in chunk]


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(services.unsubscribe, id="unsubscribe"),
        pytest.param(lambda r: status.change_status(r, Status.PAUSED), id="pause"),
        pytest.param(lambda r: status.suppress(r, Status.COMPLAINED), id="complaint"),
    ],
)
def test_a_reader_who_stops_mail_between_tick_and_send_gets_no_digest(smtp_server, stop):
    reader = alice()
    ids = queued_for(reader)
    stop(reader)
    counts = send_chunk(ids)
    assert smtp_server.messages == [] and counts.sent == 0
    row = Delivery.objects.get(subscriber=reader)
    assert row.status == Delivery.Status.FAILED and row.error.startswith("not sent: reader")


def test_a_reader_who_erases_their_data_between_tick_and_send_gets_no_digest(smtp_server):
    reader = alice()
    ids = queued_for(reader)
    services.erase(reader)
    assert send_chunk(ids).sent == 0
    assert smtp_server.messages == [] and not Delivery.objects.exists()


def test_the_rest_of_the_chunk_is_still_sent(smtp_server):
    leaving = alice()
    staying = reader("bea@example.test", [topic("video", "video generation")])
    ids = queued_for(leaving)
    services.unsubscribe(leaving)
    counts = send_chunk(ids)
    assert counts.sent == 1 and len(smtp_server.messages) == len(smtp_server.to(staying.email)) == 1
