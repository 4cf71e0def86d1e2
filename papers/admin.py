"""The paper store in the admin. Scraped text is shown through Django's escaping only:
nothing here marks a scraped value safe (format_html escapes its arguments)."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from papers.models import Paper, PaperListing, ScrapeAlert, ScrapeRun

# Scraped URLs are stored absolute; a typed one without a scheme means https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class PaperListingInline(admin.TabularInline):
    model = PaperListing
    extra = 0
    fields = ["listed_on"]
    readonly_fields = ["listed_on"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["arxiv_id", "title", "first_listed_on", "upvotes", "num_comments", "links"]
    list_filter = ["first_listed_on"]
    search_fields = ["=arxiv_id", "title", "abstract", "submitted_by"]
    date_hierarchy = "first_listed_on"
    readonly_fields = ["counts_observed_at", "created_at", "updated_at", "links"]
    inlines = [PaperListingInline]
    formfield_overrides = URL_FIELDS

    @admin.display(description="links")
    def links(self, paper: Paper) -> str:
        return format_html(
            '<a href="{}" rel="noreferrer">arXiv</a> · <a href="{}" rel="noreferrer">PDF</a>'
            ' · <a href="{}" rel="noreferrer">HF</a>',
            paper.arxiv_url,
            paper.pdf_url,
            paper.hf_url,
        )


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin):
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
    ]
    list_filter = ["status", "source", "day"]
    search_fields = ["url", "error", "warnings"]
    formfield_overrides = URL_FIELDS
    date_hierarchy = "day"

    # A record of what happened: read-only.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScrapeAlert)
class ScrapeAlertAdmin(admin.ModelAdmin):
    list_display = ["day", "kind", "sent_at", "recipients"]
    list_filter = ["kind"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
