"""The "Curators" group: everything curators need to run Paperboy from the admin, and nothing
that manages users or groups. Make a curator a staff user in this group (not a superuser)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATOR_PERMISSIONS = {
    "papers": ["view_paper", "change_paper", "view_paperlisting", "view_scraperun", "view_scrapealert",
               "delete_scrapealert"],
    "subscribers": ["view_topic", "add_topic", "change_topic", "view_subscriber", "add_subscriber",
                    "change_subscriber", "view_suppressedaddress", "delete_suppressedaddress"],
    "newsletter": ["view_edition", "change_edition", "view_delivery", "view_deliveryevent", "view_heartbeat"],
    "django_celery_beat": [
        f"{action}_{model}"
        for model in ["periodictask", "crontabschedule", "intervalschedule", "clockedschedule",
                      "solarschedule"]
        for action in ["view", "add", "change", "delete"]
    ] + ["view_periodictasks"],
}


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this one needs them now.
    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True  # create_permissions skips apps without models
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    for app_label, codenames in CURATOR_PERMISSIONS.items():
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.add(*permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Curators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("papers", "0002_scraperun_scrapealert"),
        ("subscribers", "0002_default_topics"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("newsletter", "0003_delivery_events"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
