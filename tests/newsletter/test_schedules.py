import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.schedule import DEFAULT_SCHEDULES

pytestmark = pytest.mark.django_db


def test_it_creates_every_default_schedule_once(capsys):
    call_command("setup_schedules")
    call_command("setup_schedules")
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert names == {entry.name for entry in DEFAULT_SCHEDULES}
    assert f"schedules: 0 created, {len(DEFAULT_SCHEDULES)} kept" in capsys.readouterr().out


def test_it_keeps_a_curators_edits():
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(name="Worker heartbeat")
    task.enabled = False
    task.save()
    call_command("setup_schedules")
    assert PeriodicTask.objects.get(name="Worker heartbeat").enabled is False


def test_every_scheduled_task_is_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    assert {entry.task for entry in DEFAULT_SCHEDULES} <= set(app.tasks)
