"""Create the default topics that are missing; never touch topics a curator has edited."""

from django.db import migrations

# A frozen copy would drift from the tuned list; the list is plain data with no model imports.
from subscribers.default_topics import DEFAULT_TOPICS


def create_default_topics(apps, schema_editor):
    Topic = apps.get_model("subscribers", "Topic")
    for order, topic in enumerate(DEFAULT_TOPICS):
        Topic.objects.get_or_create(
            slug=topic["slug"],
            defaults={
                "name": topic["name"],
                "description": topic["description"],
                "include_terms": "\n".join(topic["include"]),
                "exclude_terms": "\n".join(topic["exclude"]),
                "order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0001_initial")]

    operations = [migrations.RunPython(create_default_topics, migrations.RunPython.noop)]
