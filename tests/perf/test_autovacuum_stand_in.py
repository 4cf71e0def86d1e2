"""The benchmark's stand-in for autovacuum (benchmarks.autovacuum): PostgreSQL's own rule, and
a pass done on a real server where autovacuum is off."""

import pytest
from django.db import connection

from benchmarks.autovacuum import StandInAutovacuum, due
from subscribers.models import Status, Subscriber
from tests.services import require_postgres

DEFAULTS = {  # PostgreSQL's defaults
    "autovacuum_vacuum_threshold": "50",
    "autovacuum_vacuum_scale_factor": "0.2",
    "autovacuum_analyze_threshold": "50",
    "autovacuum_analyze_scale_factor": "0.1",
}


@pytest.mark.parametrize(
    ("dead", "changed", "rows", "expected"),
    [
        (0, 50, 0, None),  # at the threshold: not yet
        (0, 51, 0, "ANALYZE"),  # a table analyzed while empty: 51 new rows are enough
        (0, 1050, 10_000, None),
        (0, 1051, 10_000, "ANALYZE"),
        (2051, 0, 10_000, "VACUUM (ANALYZE)"),
        (2050, 5000, 10_000, "ANALYZE"),
    ],
)
def test_the_rule_is_postgresqls(dead, changed, rows, expected):
    assert due(DEFAULTS, dead, changed, rows) == expected


@pytest.mark.django_db(transaction=True)
def test_a_pass_analyzes_a_changed_table_when_the_server_does_not():
    require_postgres()
    table = Subscriber._meta.db_table
    stand_in = StandInAutovacuum([table])
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        assert stand_in.active == (cursor.fetchone()[0] == "off")
    if not stand_in.active:
        pytest.skip("this PostgreSQL runs autovacuum itself: the stand-in stays idle")
    Subscriber.objects.bulk_create(
        Subscriber(email=f"v{i}@example.test", status=Status.ACTIVE) for i in range(200)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # counts are sent when idle
    stand_in.poll()
    assert stand_in.passes == []  # not before a naptime
    stand_in.next_pass = 0
    stand_in.poll()
    # ANALYZE, or VACUUM (ANALYZE) when earlier tests (or the migrations) left dead rows.
    assert [t for _, t, _ in stand_in.passes] == [table]
    assert stand_in.passes[0][2] in ("ANALYZE", "VACUUM (ANALYZE)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s", [table])
        assert cursor.fetchone()[0]
