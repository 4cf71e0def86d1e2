# On PostgreSQL, Delivery.edition's foreign key becomes triggers that keep its guarantees (see
# the model): a delivery names an edition that exists, and an edition with deliveries is neither
# deleted nor renumbered. PostgreSQL checks a foreign key row by row; a tick inserts 100,000
# rows, and the edition's check was a third of the tick (0.5 s). The insert trigger runs once
# per statement.
#
# Both checks run at the end of the statement, not at commit as Django's deferred key did:
# nothing inserts a delivery before its edition or deletes an edition before its deliveries
# (Django's flush truncates there, which fires no trigger).
# Concurrency: the insert check locks the edition FOR KEY SHARE, as the foreign key's check
# did, so a DELETE of it waits for that transaction and then finds its deliveries (READ
# COMMITTED: the trigger's query sees what committed before it); an insert that waited for a
# DELETE finds the edition gone.

import django.db.models.deletion
from django.db import migrations, models

PG_INSTALL = [
    """
    CREATE FUNCTION newsletter_delivery_edition_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        named integer;
        present integer;
    BEGIN
        SELECT count(DISTINCT edition_id) INTO named FROM new_rows;
        SELECT count(*) INTO present FROM (
            SELECT 1 FROM newsletter_edition
            WHERE id IN (SELECT edition_id FROM new_rows) FOR KEY SHARE
        ) AS locked;
        IF present < named THEN
            RAISE foreign_key_violation USING MESSAGE =
                'insert or update on table "newsletter_delivery" names an edition that does not exist';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER newsletter_delivery_edition_insert AFTER INSERT ON newsletter_delivery
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION newsletter_delivery_edition_exists()
    """,
    # Transition tables cannot go with a column list, and a statement-level UPDATE trigger
    # without one would copy every row of the send path's updates: this one is per row and
    # only for updates that change the edition (none in the code).
    """
    CREATE FUNCTION newsletter_delivery_edition_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM newsletter_edition WHERE id = NEW.edition_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING MESSAGE = format(
                'insert or update on table "newsletter_delivery" names edition %s, which does not exist',
                NEW.edition_id);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER newsletter_delivery_edition_update AFTER UPDATE OF edition_id ON newsletter_delivery
    FOR EACH ROW WHEN (OLD.edition_id IS DISTINCT FROM NEW.edition_id)
    EXECUTE FUNCTION newsletter_delivery_edition_changed()
    """,
    """
    CREATE FUNCTION newsletter_edition_keeps_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
            RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM newsletter_delivery WHERE edition_id = OLD.id) THEN
            RAISE foreign_key_violation USING MESSAGE = format(
                'edition %s still has deliveries in "newsletter_delivery"', OLD.id);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER newsletter_edition_keeps_deliveries AFTER DELETE OR UPDATE OF id ON newsletter_edition
    FOR EACH ROW EXECUTE FUNCTION newsletter_edition_keeps_deliveries()
    """,
]

PG_REMOVE = [
    "DROP TRIGGER IF EXISTS newsletter_edition_keeps_deliveries ON newsletter_edition",
    "DROP TRIGGER IF EXISTS newsletter_delivery_edition_update ON newsletter_delivery",
    "DROP TRIGGER IF EXISTS newsletter_delivery_edition_insert ON newsletter_delivery",
    "DROP FUNCTION IF EXISTS newsletter_edition_keeps_deliveries()",
    "DROP FUNCTION IF EXISTS newsletter_delivery_edition_changed()",
    "DROP FUNCTION IF EXISTS newsletter_delivery_edition_exists()",
]


def _postgresql_only(schema_editor) -> bool:
    """SQLite (the embedded default) keeps the foreign key: its checks are per row either way,
    and Django's flush there deletes editions before their deliveries, which only a deferred
    key allows. Other vendors are not supported by this project."""
    return schema_editor.connection.vendor == "postgresql"


def install_guard(apps, schema_editor) -> None:
    if _postgresql_only(schema_editor):
        for sql in PG_INSTALL:
            schema_editor.execute(sql, params=None)  # None: format()'s %s is not a placeholder


def remove_guard(apps, schema_editor) -> None:
    if _postgresql_only(schema_editor):
        for sql in PG_REMOVE:
            schema_editor.execute(sql, params=None)


class DropForeignKeyOnPostgreSQL(migrations.AlterField):
    """The AlterField to db_constraint=False, whose database side runs on PostgreSQL only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if _postgresql_only(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if _postgresql_only(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0008_sentpaper_no_paper_index"),
    ]

    operations = [
        DropForeignKeyOnPostgreSQL(
            model_name="delivery",
            name="edition",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="newsletter.edition",
            ),
        ),
        migrations.RunPython(install_guard, remove_guard),
    ]
