from django.db import models


class Heartbeat(models.Model):
    """When a Celery worker last ran the heartbeat task that beat schedules every minute.

    /healthz reports its age, so an operator can see that beat and a worker are alive.
    """

    source = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
