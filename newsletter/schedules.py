import json

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.schedule import DEFAULT_SCHEDULES, Schedule


def ensure_schedule(entry: Schedule) -> bool:
    """Create the periodic task if no task of that name exists. True when created."""
    if PeriodicTask.objects.filter(name=entry.name).exists():
        return False
    if entry.every is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=entry.every, period=IntervalSchedule.SECONDS
        )
        when = {"interval": interval}
    else:
        cron, _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **entry.crontab)
        when = {"crontab": cron}
    PeriodicTask.objects.create(
        name=entry.name,
        task=entry.task,
        kwargs=json.dumps(entry.kwargs),
        description=entry.description,
        **when,
    )
    return True


def ensure_default_schedules() -> list[str]:
    """Names of the entries that were missing and are now created."""
    return [entry.name for entry in DEFAULT_SCHEDULES if ensure_schedule(entry)]
