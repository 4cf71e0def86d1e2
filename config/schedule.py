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
        every=30,
        description="Shows on /healthz that beat and a worker are alive.",
    ),
    # --- papers: ingestion (times in UTC; edit them in the admin) ---
    Schedule(
        name="Scrape today's papers",
        task="papers.tasks.scrape_day_task",
        crontab={"minute": "10", "hour": "6,9,12,15,18,21", "day_of_week": "*"},
        description="Today's Hugging Face Daily Papers listing; it grows during the day, so several times.",
    ),
    Schedule(
        name="Refresh recent papers' upvotes",
        task="papers.tasks.refresh_recent_days_task",
        crontab={"minute": "40", "hour": "3", "day_of_week": "*"},
        description="Re-scrapes the last SCRAPE_REFRESH_DAYS days for fresh upvotes and comment counts.",
    ),
    Schedule(
        name="Alert if a weekday has no papers",
        task="papers.tasks.check_empty_weekday_task",
        crontab={"minute": "30", "hour": "*", "day_of_week": "1-5"},
        description="Mails the curators once when a weekday is still empty past SCRAPE_EMPTY_ALERT_HOUR.",
    ),
    # --- subscribers ---
    Schedule(
        name="Resume paused subscriptions",
        task="subscribers.tasks.resume_paused_subscriptions_task",
        crontab={"minute": "5", "hour": "*", "day_of_week": "*"},
        description="Readers who paused until a date get their daily or weekly digest back on that date.",
    ),
    # --- newsletter: delivery ---
    Schedule(
        name="Send due digests",
        task="newsletter.tasks.digest_tick_task",
        crontab={"minute": "*/15", "hour": "*", "day_of_week": "*"},
        description="Builds today's edition once settled; mails readers whose local delivery hour has come.",
    ),
    # --- curator console: ESP webhooks ---
    Schedule(
        name="Apply lost ESP events",
        task="newsletter.tasks.apply_lost_delivery_events_task",
        crontab={"minute": "*/10", "hour": "*", "day_of_week": "*"},
        description="Applies ESP webhook events whose task was lost (broker down when they came).",
    ),
]
