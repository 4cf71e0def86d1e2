"""The scrape log in the admin: runs and alerts, read-only, with "run again". The papers themselves
are curated in the console (newsletter/console/papers.py), beside the editions they go into."""

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyModelAdmin
from papers.models import ScrapeAlert, ScrapeRun
from papers.tasks import scrape_day_task

# Scraped URLs are stored absolute; a typed one without a scheme means https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ScrapeRun)
class ScrapeRunAdmin(ReadOnlyModelAdmin):
    list_display = [
        "day",
        "status",
        "source",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "duration",
        "started_at",
        "short_error",
    ]
    list_filter = ["status", "source", "day"]
    search_fields = ["url", "error", "warnings"]
    formfield_overrides = URL_FIELDS
    date_hierarchy = "day"
    actions = ["run_again"]

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("papers.view_scraperun")

    @admin.display(description="error")
    def short_error(self, run: ScrapeRun) -> str:
        return run.error[:100]

    @admin.action(description="Run again: scrape these days now", permissions=["run"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[ScrapeRun]) -> None:
        days = sorted({run.day.isoformat() for run in queryset})
        for day in days:
            transaction.on_commit(lambda d=day: scrape_day_task.delay(d))
        self.message_user(request, f"Scrape queued for {', '.join(days)}.", messages.SUCCESS)


@admin.register(ScrapeAlert)
class ScrapeAlertAdmin(ReadOnlyModelAdmin):
    list_display = ["day", "kind", "sent_at", "recipients"]
    list_filter = ["kind"]
