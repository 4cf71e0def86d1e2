from django.core.management.base import BaseCommand

from config.schedule import DEFAULT_SCHEDULES
from newsletter.schedules import ensure_default_schedules


class Command(BaseCommand):
    help = "Create Paperboy's default periodic tasks that are missing (existing ones are kept as edited)."

    def handle(self, *args, **options) -> None:
        created = ensure_default_schedules()
        for name in created:
            self.stdout.write(f"created schedule: {name}")
        self.stdout.write(f"schedules: {len(created)} created, {len(DEFAULT_SCHEDULES) - len(created)} kept")
