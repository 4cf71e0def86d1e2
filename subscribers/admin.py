"""Topics and subscribers in the admin: live term matching, CSV import (double opt-in) and
export, resend confirmation, suppress."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst

from config.admin import ModelAdmin, ModelMultipleChoiceField
from papers.classifier.store import held_out_figures
from papers.matching import compile_matcher, matches_by_paper
from papers.models import Paper
from papers.scores import topics_of
from subscribers import limits, status
from subscribers.imports import ImportFileError, export_rows, import_subscribers, read_addresses
from subscribers.models import Status, Subscriber, SuppressedAddress, Topic
from subscribers.tasks import send_subscriber_email_task

MATCH_DAYS = 7
MATCHES_SHOWN = 50
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def recently_listed() -> list[Paper]:
    """The papers listed in the last MATCH_DAYS days, most upvoted first."""
    since = timezone.localdate() - timedelta(days=MATCH_DAYS - 1)
    return list(Paper.objects.filter(listings__listed_on__gte=since).distinct().order_by("-upvotes"))


def recent_matches(include: str, exclude: str) -> tuple[int, int, list[Paper]]:
    """(matching, total, first papers) among the papers listed in the last MATCH_DAYS days."""
    papers = recently_listed()
    matched = matches_by_paper(papers, {"terms": compile_matcher(include, exclude)})
    matching = [paper for paper, found in matched if found]
    return len(matching), len(papers), matching[:MATCHES_SHOWN]


def recent_papers_in(topic: Topic) -> tuple[int, int, list[Paper]]:
    """(in the topic, total, first papers) of the last MATCH_DAYS days, decided as digests decide:
    the classifier for a topic it was trained on, else the topic's terms."""
    papers = recently_listed()
    found = [paper for paper, topics in topics_of(papers, [topic]) if topics]
    return len(found), len(papers), found[:MATCHES_SHOWN]


def render_matches(include: str, exclude: str) -> str:
    count, total, papers = recent_matches(include, exclude)
    context = {"count": count, "total": total, "papers": papers, "days": MATCH_DAYS}
    return render_to_string("admin/subscribers/topic/matches.html", context)


@admin.register(Topic)
class TopicAdmin(ModelAdmin):
    list_display = ["name", "slug", "active", "order", "reader_count", "classifier"]
    list_editable = ["active", "order"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "include_terms"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["classifier", "in_digests", "recent_papers"]

    class Media:
        js = ["admin/topic_matches.js"]
        css = {"all": ["admin/curator.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(readers=Count("subscribers"))

    def get_changelist_formset(self, request: HttpRequest, **kwargs):
        # Django's editable cells have no label and point aria-describedby at help texts the
        # changelist never shows (Nu checker, axe): label each with its column's name instead.
        formset = super().get_changelist_formset(request, **kwargs)
        for name in self.list_editable:
            field = formset.form.base_fields[name]
            field.help_text = ""
            field.widget.attrs["aria-label"] = capfirst(Topic._meta.get_field(name).verbose_name)
        return formset

    @admin.display(description="classifier: held-out precision, recall")
    def classifier(self, topic: Topic) -> str:
        figures = held_out_figures().get(topic.slug)
        if figures is None:
            return "not trained: matches by its terms (mark papers in and out of it, then retrain)"
        return f"precision {figures['precision']:.2f}, recall {figures['recall']:.2f}"

    @admin.display(description="subscribers", ordering="readers")
    def reader_count(self, topic: Topic) -> int:
        return topic.readers

    @admin.display(description=f"papers of the last {MATCH_DAYS} days in it (what digests send)")
    def in_digests(self, topic: Topic) -> str:
        if topic.pk is None:
            return "-"
        count, total, papers = recent_papers_in(topic)
        context = {"count": count, "total": total, "papers": papers, "days": MATCH_DAYS}
        return render_to_string("admin/subscribers/topic/in_digests.html", context)

    @admin.display(description=f"papers of the last {MATCH_DAYS} days its terms match")
    def recent_papers(self, topic: Topic) -> str:
        url = reverse("admin:subscribers_topic_matches")
        html = render_matches(topic.include_terms or "", topic.exclude_terms or "")
        return render_to_string("admin/subscribers/topic/matches_box.html", {"url": url, "html": html})

    def get_urls(self):
        view = self.admin_site.admin_view(self.matches_view)
        return [path("matches/", view, name="subscribers_topic_matches"), *super().get_urls()]

    def matches_view(self, request: HttpRequest) -> HttpResponse:
        """The live count and list for terms being typed (fetched by topic_matches.js)."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        include, exclude = request.GET.get("include", "")[:5000], request.GET.get("exclude", "")[:5000]
        return HttpResponse(render_matches(include, exclude))


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8: an 'email' column, or addresses in the first column.")
    consent_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: where and how these people agreed to receive Paperboy "
        "(stored as their consent).",
    )
    topics = ModelMultipleChoiceField(queryset=Topic.objects.filter(active=True), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB: split it.")
        return upload

    def clean_consent_note(self):
        note = self.cleaned_data["consent_note"].strip()
        if len(note) < 10:
            raise forms.ValidationError("Say where and how these people agreed (at least a short sentence).")
        return note


class TimeZoneFilter(admin.SimpleListFilter):
    title = "time zone"
    parameter_name = "tz"

    def lookups(self, request, model_admin):
        zones = Subscriber.objects.order_by("time_zone").values_list("time_zone", flat=True).distinct()
        return [(zone, zone) for zone in zones]

    def queryset(self, request, queryset):
        return queryset.filter(time_zone=self.value()) if self.value() else queryset


@admin.register(Subscriber)
class SubscriberAdmin(ModelAdmin):
    list_display = [
        "email",
        "status",
        "frequency",
        "time_zone",
        "delivery_hour",
        "created_at",
        "confirmed_at",
    ]
    list_filter = ["status", "topics", "frequency", TimeZoneFilter, "include_trending"]
    search_fields = ["email", "=public_id"]
    filter_horizontal = ["topics"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "public_id", "consent_at", "consent_ip", "consent_user_agent", "consent_version", "consent_text",
        "confirmed_at", "unsubscribed_at", "created_at", "updated_at",
    ]  # fmt: skip
    exclude = ["confirm_nonce"]
    actions = ["resend_confirmation", "suppress", "export_csv"]
    change_list_template = "admin/subscribers/subscriber/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # readers join by double opt-in only: the sign-up form or the CSV import

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscribers.add_subscriber")

    # --- actions ---------------------------------------------------------------------------------
    @admin.action(description="Resend the confirmation email (pending only)", permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        sent, skipped = 0, 0
        for subscriber in queryset.filter(status=Status.PENDING):
            if not limits.address_quota_allows(subscriber.email, "confirm"):
                skipped += 1
                continue
            transaction.on_commit(lambda pk=subscriber.pk: send_subscriber_email_task.delay(pk, "confirm"))
            sent += 1
        skipped += queryset.exclude(status=Status.PENDING).count()
        level = messages.SUCCESS if sent else messages.WARNING
        self.message_user(
            request, f"Confirmation resent to {sent}; {skipped} skipped (not pending or over quota).", level
        )

    @admin.action(description="Suppress: never mail these addresses again", permissions=["change"])
    def suppress(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        with transaction.atomic():
            for subscriber in queryset:
                status.forget_address(subscriber.email, "curator")
                status.suppress(subscriber, Status.UNSUBSCRIBED)
        self.message_user(request, f"{queryset.count()} address(es) suppressed.", messages.SUCCESS)

    @admin.action(description="Export as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> StreamingHttpResponse:
        writer = csv.writer(Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in export_rows(queryset)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="subscribers-{timezone.localdate()}.csv"'
        return response

    # --- import ----------------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="subscribers_subscriber_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            return HttpResponse("You may not import subscribers.", status=403)
        form = ImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                addresses = list(read_addresses(form.cleaned_data["file"].read()))
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                result = import_subscribers(
                    addresses, form.cleaned_data["consent_note"], list(form.cleaned_data["topics"]),
                    request.user.get_username(),
                )  # fmt: skip
                self.message_user(
                    request,
                    f"{len(result.invited)} confirmation email(s) queued; "
                    f"{len(result.skipped)} row(s) skipped.",
                    messages.SUCCESS if result.invited else messages.WARNING,
                )
                if not result.skipped:
                    return redirect("admin:subscribers_subscriber_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import subscribers",
            "opts": self.model._meta,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/import.html", context)


class Echo:
    """A file-like object for csv.writer that hands each line back (streamed export)."""

    def write(self, value: str) -> str:
        return value


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(ModelAdmin):
    """Deleting a row here lets that address sign up again."""

    list_display = ["address_hash", "reason", "created_at"]
    readonly_fields = ["address_hash", "reason", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
