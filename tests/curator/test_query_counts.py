"""Console lists cost a fixed number of queries, however many rows they show."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Delivery
from tests.newsletter.personas import DAY, a_day_of_papers, alice, bob, released_edition

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_edition_list_with_statistics_does_not_grow_with_editions(curator_client):
    readers = [alice(), bob()]
    a_day_of_papers(DAY)
    for reader in readers:
        Delivery.objects.create(subscriber=reader, edition=released_edition(DAY), status="sent")
    one = queries(curator_client, "/admin/newsletter/edition/")
    for back in (1, 2, 3):
        day = DAY - timedelta(days=back)
        a_day_of_papers(day)
        edition = released_edition(day)
        for reader in readers:
            Delivery.objects.create(subscriber=reader, edition=edition, status="sent")
    assert queries(curator_client, "/admin/newsletter/edition/") == one


def test_the_paper_list_with_matched_topics_does_not_grow_with_papers(curator_client):
    a_day_of_papers(DAY)
    one = queries(curator_client, "/admin/papers/paper/")
    for back in (1, 2, 3):
        a_day_of_papers(DAY - timedelta(days=back))
    assert queries(curator_client, "/admin/papers/paper/") == one
