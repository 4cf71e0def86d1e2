"""The ledger's lookups by claim token, ESP message id and ESP status go through partial indexes
that leave out the empty value: a row the tick inserts enters none of them, yet every lookup,
which always names a value, must still find its index (PostgreSQL proves the value is not empty
from the literal in the query)."""

import pytest
from django.db import connection

from newsletter.models import Delivery, EspStatus
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny here
        return queryset.explain()


@pytest.mark.parametrize(
    ("index", "lookup"),
    [
        ("delivery_claim_token", {"claim_token": "0f3a9c", "status": Delivery.Status.SENDING}),
        ("delivery_esp_message_id", {"esp_message_id__in": ["<a@esp.example>", "<b@esp.example>"]}),
        ("delivery_esp_status", {"esp_status__in": [EspStatus.BOUNCED, EspStatus.REJECTED]}),
        ("delivery_esp_status", {"esp_status": EspStatus.COMPLAINED}),
    ],
)
def test_lookups_use_the_partial_indexes(index, lookup):
    require_postgres()
    assert index in plan(Delivery.objects.filter(**lookup))


def test_the_partial_indexes_leave_out_empty_values():
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Delivery._meta.db_table]
        )
        definitions = dict(cursor.fetchall())
    for name, column in [
        ("delivery_claim_token", "claim_token"),
        ("delivery_esp_message_id", "esp_message_id"),
        ("delivery_esp_status", "esp_status"),
    ]:
        assert f"WHERE (NOT (({column})::text = ''::text))" in definitions[name]
    assert len(definitions) == 7  # primary key, (subscriber, edition), edition, status, the three
