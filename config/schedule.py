"""Every periodic task Paperboy runs, in one place.

`manage.py setup_schedules` creates missing entries in django-celery-beat's tables and
leaves existing ones alone, so a curator's edits in the admin survive restarts.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    # crontab fields (minute, hour, day_of_week, ...) or every=seconds
    crontab: dict[str, str] = field(default_factory=dict)
    every: int | None = None
    kwargs: dict = field(default_factory=dict)
    description: str = ""


DEFAULT_SCHEDULES: list[Schedule] = [
    Schedule(
        name="Worker heartbeat",
        task="newsletter.tasks.heartbeat_task",
        every=60,
        description="Shows on /healthz that beat and a worker are alive.",
    ),
]
