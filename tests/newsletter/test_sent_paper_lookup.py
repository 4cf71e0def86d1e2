"""A chunk asks which of its papers its readers were already sent (outcomes.already_sent). That
goes through the readers' index: going through the papers reads every row of them sent so far,
for every chunk, and a send grows quadratically (issue 17)."""

import pytest
from django.db import connection

from newsletter.models import Delivery, Edition, SentPaper
from newsletter.sending.outcomes import already_sent
from subscribers.models import Status, Subscriber
from tests.services import require_postgres
from tests.subscribers.helpers import make_paper

pytestmark = pytest.mark.django_db

READERS, PAPERS = 2000, 20


def sent_so_far(papers: list) -> list[int]:
    """READERS readers who were each sent every one of `papers`, as midway through a send."""
    readers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.test", status=Status.ACTIVE) for i in range(READERS)
    )
    edition = Edition.objects.create(listed_on="2025-03-05")
    deliveries = Delivery.objects.bulk_create(Delivery(subscriber=r, edition=edition) for r in readers)
    SentPaper.objects.bulk_create(
        SentPaper(subscriber_id=d.subscriber_id, paper=p, delivery=d) for d in deliveries for p in papers
    )
    return [r.pk for r in readers]


def test_a_chunk_looks_up_what_its_readers_were_sent_through_the_reader_index():
    require_postgres()
    papers = [make_paper(f"2503.{i:05d}", f"Paper {i}") for i in range(PAPERS)]
    with connection.cursor() as cursor:
        # Statistics from the send's start, when nothing was sent yet (what a planner without a
        # fresh ANALYZE works with midway through a big send).
        cursor.execute(f"ANALYZE {SentPaper._meta.db_table}")
    readers = sent_so_far(papers)
    chunk = readers[:500]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is small here
        plan = already_sent(chunk, [p.pk for p in papers]).explain()
    assert "unique_sent_paper" in plan
    assert "paper_id_" not in plan  # no index by paper to read every row sent
    assert len(already_sent(chunk, [p.pk for p in papers[:3]])) == 500 * 3
