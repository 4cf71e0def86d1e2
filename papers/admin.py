"""The scrape log in the admin: runs and alerts, read-only, with "run again". The papers themselves
are curated in the console (newsletter/console/papers.py), beside the editions they go into."""

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from config.admin import ReadOnlyModelAdmin
from papers.classifier.store import start_training
from papers.models import ScrapeAlert, ScrapeRun, TopicModelVersion
from papers.tasks import scrape_day_task, train_topics_task

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


@admin.register(TopicModelVersion)
class TopicModelVersionAdmin(ReadOnlyModelAdmin):
    """Topic models trained on this install; "Retrain now" starts one (the newest ready one is
    used, else the model shipped with Paperboy)."""

    list_display = ["pk", "status", "progress", "marks", "papers", "macro_f1", "started_at", "finished_at"]
    list_filter = ["status"]
    exclude = ["data"]
    change_list_template = "admin/papers/topicmodelversion/change_list.html"

    @admin.display(description="papers learned from")
    def papers(self, version: TopicModelVersion) -> int | str:
        return version.info.get("papers", "—")

    @admin.display(description="held-out macro F1")
    def macro_f1(self, version: TopicModelVersion) -> str:
        figures = version.info.get("held_out", {})
        if not figures:
            return "—"
        return f"{sum(f['f1'] for f in figures.values()) / len(figures):.2f}"

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.retrain_view))
        return [path("retrain/", view, name="papers_topicmodelversion_retrain"), *super().get_urls()]

    def retrain_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not request.user.has_perm("papers.add_topicmodelversion"):
            self.message_user(request, "You may not retrain the topic model.", messages.ERROR)
        else:
            with transaction.atomic():
                version = start_training()
                transaction.on_commit(lambda: train_topics_task.delay(version.pk))
            self.message_user(
                request, f"Training topic model {version.pk}: its progress shows here.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:papers_topicmodelversion_changelist"))
