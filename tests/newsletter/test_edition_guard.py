"""Delivery.edition is kept by triggers on PostgreSQL, not a foreign key (migration 0009), and
by its foreign key on SQLite: on both, no delivery names a missing edition and an edition with
deliveries is not deleted, under concurrent transactions too on PostgreSQL, as the key did."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from newsletter.models import Delivery, Edition
from subscribers.models import Subscriber
from tests.services import require_postgres, wait_for

MISSING = 10**12
TRIGGERS = {
    "newsletter_delivery_edition_insert",
    "newsletter_delivery_edition_update",
    "newsletter_edition_keeps_deliveries",
}


@contextmanager
def refused() -> Iterator[None]:
    """The database refuses what the block does: at once on PostgreSQL (the triggers), at the
    constraint check on SQLite (its key is deferred, checked at commit)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield
        connection.check_constraints(table_names=[Delivery._meta.db_table])


def readers(n: int) -> list[Subscriber]:
    Subscriber.objects.bulk_create(
        Subscriber(email=f"g{i}@example.test", confirm_nonce="n" * 32) for i in range(n)
    )
    return list(Subscriber.objects.order_by("pk")[:n])


def an_edition(day: int = 1) -> Edition:
    return Edition.objects.create(listed_on=f"2026-03-{day:02d}")


def triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}


def edition_keys() -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Delivery._meta.db_table)
    return [name for name, c in constraints.items() if c["foreign_key"] == ("newsletter_edition", "id")]


@pytest.mark.django_db
def test_postgresql_has_the_triggers_and_sqlite_the_foreign_key():
    """Fails if a later migration rebuilds the table on SQLite (the model says db_constraint=False,
    so the rebuilt table would have no key) or drops the triggers on PostgreSQL."""
    if connection.vendor == "postgresql":
        assert triggers() >= TRIGGERS
        assert edition_keys() == []
    else:
        assert len(edition_keys()) == 1


@pytest.mark.django_db
def test_a_delivery_of_a_missing_edition_is_refused():
    reader = readers(1)[0]
    with refused():
        Delivery.objects.create(edition_id=MISSING, subscriber=reader)
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_one_missing_edition_refuses_the_whole_statement():
    edition, (first, second, third) = an_edition(), readers(3)
    rows = [
        Delivery(edition=edition, subscriber=first),
        Delivery(edition_id=MISSING, subscriber=second),
        Delivery(edition=edition, subscriber=third),
    ]
    with refused():
        Delivery.objects.bulk_create(rows)
    assert not Delivery.objects.exists()
    Delivery.objects.bulk_create([rows[0], rows[2]])  # the editions that exist go in
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_a_delivery_moves_only_to_an_edition_that_exists():
    first, second = an_edition(1), an_edition(2)
    delivery = Delivery.objects.create(edition=first, subscriber=readers(1)[0])
    with refused():
        Delivery.objects.filter(pk=delivery.pk).update(edition_id=MISSING)
    Delivery.objects.filter(pk=delivery.pk).update(edition_id=second.pk)
    delivery.refresh_from_db()
    assert delivery.edition_id == second.pk
    delivery.status = Delivery.Status.SENT
    delivery.save()  # a save that writes the same edition back


@pytest.mark.django_db
def test_an_edition_with_deliveries_cannot_be_deleted_or_renumbered():
    kept, empty = an_edition(1), an_edition(2)
    Delivery.objects.create(edition=kept, subscriber=readers(1)[0])
    # Past Django's PROTECT, as raw SQL or another program would go.
    with refused():
        Edition.objects.filter(pk=kept.pk)._raw_delete(connection.alias)
    with refused():
        Edition.objects.filter(pk=kept.pk).update(id=MISSING)
    Edition.objects.filter(pk=empty.pk)._raw_delete(connection.alias)
    assert list(Edition.objects.all()) == [kept]


# --- PostgreSQL, two transactions at once ---------------------------------------------------


def _connect() -> psycopg.Connection:
    return psycopg.connect(**connection.get_connection_params())


def _insert_delivery(conn: psycopg.Connection, edition_id: int, subscriber_id: int) -> None:
    conn.execute(
        "INSERT INTO newsletter_delivery (edition_id, subscriber_id, status, attempts, items, error,"
        " esp_message_id, esp_status, claim_token, created_at)"
        " VALUES (%s, %s, 'pending', 0, '[]', '', '', '', '', now())",
        [edition_id, subscriber_id],
    )


def _waiting_on_a_lock(conn: psycopg.Connection) -> bool:
    with _connect() as watcher:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [conn.info.backend_pid]
        ).fetchone()
    return row is not None and row[0] == "Lock"


def _in_background(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except psycopg.Error as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_a_delete_waits_for_an_uncommitted_delivery_then_is_refused():
    require_postgres()
    edition, reader = an_edition(), readers(1)[0]
    with _connect() as inserting, _connect() as deleting:
        _insert_delivery(inserting, edition.pk, reader.pk)  # open: holds the edition's key lock
        sql = "DELETE FROM newsletter_edition WHERE id = %s"
        thread, outcome = _in_background(lambda: deleting.execute(sql, [edition.pk]))
        wait_for(lambda: _waiting_on_a_lock(deleting), timeout=10)
        inserting.commit()
        thread.join(10)
        deleting.rollback()
    assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert Delivery.objects.filter(edition=edition).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_insert_waits_for_an_uncommitted_delete_then_is_refused():
    require_postgres()
    edition, reader = an_edition(), readers(1)[0]
    with _connect() as deleting, _connect() as inserting:
        deleting.execute("DELETE FROM newsletter_edition WHERE id = %s", [edition.pk])
        thread, outcome = _in_background(lambda: _insert_delivery(inserting, edition.pk, reader.pk))
        wait_for(lambda: _waiting_on_a_lock(inserting), timeout=10)
        deleting.commit()
        thread.join(10)
        inserting.rollback()
    assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert not Delivery.objects.exists()
    assert not Edition.objects.filter(pk=edition.pk).exists()
