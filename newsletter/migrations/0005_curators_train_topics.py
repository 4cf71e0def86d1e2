"""Curators may mark papers in or out of topics and retrain the topic classifier."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_topicmodelversion", "add_topicmodelversion", "view_topicmark", "add_topicmark",
               "change_topicmark", "delete_topicmark"]  # fmt: skip


def grant(apps, schema_editor):
    papers = apps.get_app_config("papers")
    previous = getattr(papers, "models_module", None)
    papers.models_module = previous or True  # permissions are created after migrations otherwise
    create_permissions(papers, apps=apps, verbosity=0)
    papers.models_module = previous
    group = apps.get_model("auth", "Group").objects.filter(name="Curators").first()
    if group is not None:
        found = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="papers", codename__in=PERMISSIONS
        )
        group.permissions.add(*found)


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0004_curators_group"), ("papers", "0003_topic_classifier")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
