"""Readers' profile keys (subscribers.profile_keys). Both columns start empty, so adding them
rewrites no row; the next tick computes the keys of the readers it finds due."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subscribers', '0007_safety_description_guideline_1_4'),
    ]

    operations = [
        migrations.AddField(
            model_name='subscriber',
            name='profile_key',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='subscriber',
            name='profile_key_of',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
