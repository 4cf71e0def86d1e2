# Drops the index on SentPaper.paper (see the model). Only the index: Django's AlterField would
# also drop and re-add the foreign key, checking every row again under a lock.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "newsletter_sentpaper_paper_id_af53211b"


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0007_partial_ledger_indexes"),
        ("papers", "0003_topic_classifier"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "newsletter_sentpaper" ("paper_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="sentpaper",
                    name="paper",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="papers.paper",
                    ),
                )
            ],
        )
    ]
