"""Create the default topics that are missing; never touch topics a curator has edited."""

from django.db import migrations

# A frozen copy would drift from the tuned list; the list is plain data with no model imports.
from subscribers.default_topics import create_missing_topics


def create_default_topics(apps, schema_editor):
    create_missing_topics(apps.get_model("subscribers", "Topic"))


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0001_initial")]

    operations = [migrations.RunPython(create_default_topics, migrations.RunPython.noop)]
