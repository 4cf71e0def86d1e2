"""Editions, deliveries and ESP events in the admin: previews as any reader, test sends,
hold / release and each edition's delivery statistics."""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from config.admin import ModelAdmin, ReadOnlyModelAdmin
from newsletter.console.previews import Choice, UnknownReader, personas, render_preview, send_test
from newsletter.console.stats import STAT_NAMES, edition_stats
from newsletter.models import Delivery, DeliveryEvent, Edition
from newsletter.sending.editions import papers_listed_on, refresh_scores
from papers.models import Paper
from subscribers.models import Topic

admin.site.site_header = "Paperboy curator console"
admin.site.site_title = "Paperboy"
admin.site.index_title = "Papers, topics, editions, subscribers and deliveries"


def hold_editions(queryset: QuerySet[Edition]) -> int:
    return queryset.exclude(status=Edition.Status.SENT).update(status=Edition.Status.HELD)


def release_editions(queryset: QuerySet[Edition]) -> int:
    return queryset.filter(status__in=[Edition.Status.DRAFT, Edition.Status.HELD]).update(
        status=Edition.Status.SCHEDULED, released_at=timezone.now()
    )


def choice_from(data) -> Choice:
    return Choice(
        subscriber=data.get("subscriber", "")[:254],
        persona=data.get("persona", "all-topics")[:120],
        weekly=data.get("weekly") == "1",
    )


class EditionChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # One query for the page's statistics, read by the stat_ columns.
        stats = edition_stats([e.pk for e in self.result_list])
        for edition in self.result_list:
            edition.stats = stats[edition.pk]


@admin.register(Edition)
class EditionAdmin(ModelAdmin):
    list_display = ["listed_on", "status", "released_at", "sent_at", *[f"stat_{n}" for n in STAT_NAMES]]
    list_filter = ["status"]
    date_hierarchy = "listed_on"
    autocomplete_fields = ["picks", "hidden"]
    fields = ["listed_on", "status", "curator_note", "picks", "hidden", "papers_of_the_day", "statistics"]
    fields += ["released_at", "sent_at", "created_at"]
    readonly_fields = ["listed_on", "status", "released_at", "sent_at", "created_at"]
    readonly_fields += ["papers_of_the_day", "statistics"]
    actions = ["hold", "release"]
    change_form_template = "admin/newsletter/edition/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # editions are built from the stored papers, one per listing day

    def get_changelist(self, request: HttpRequest, **kwargs):
        return EditionChangeList

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Picks may add papers from other days: rank them too.
        refresh_scores(form.instance)

    # --- columns ---------------------------------------------------------------------------------
    def _stat(self, edition: Edition, name: str) -> int:
        stats = getattr(edition, "stats", None) or edition_stats([edition.pk])[edition.pk]
        return stats[name]

    @admin.display(description="papers of the day")
    def papers_of_the_day(self, edition: Edition) -> str:
        topics = {str(t.pk): t.name for t in Topic.objects.all()}
        scores = edition.scores.get("papers", {})
        picks = set(edition.picks.values_list("pk", flat=True))
        hidden = set(edition.hidden.values_list("pk", flat=True))
        rows = []
        for paper in papers_listed_on(edition.listed_on):
            matched = ", ".join(topics.get(t, "?") for t in scores.get(str(paper.pk), {}).get("topics", {}))
            flag = "editor's pick" if paper.pk in picks else "hidden" if paper.pk in hidden else ""
            url = reverse("admin:papers_paper_change", args=[paper.pk])
            rows.append((url, paper.title[:120], paper.upvotes, matched or "—", flag))
        if not rows:
            return "No papers stored for this day."
        body = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
        )
        return format_html(
            '<table class="papers-of-day"><thead><tr><th scope="col">paper</th><th scope="col">upvotes</th>'
            '<th scope="col">matched topics</th><th scope="col">curation</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="statistics")
    def statistics(self, edition: Edition) -> str:
        stats = edition_stats([edition.pk])[edition.pk]
        return format_html_join(" · ", "{}: {}", ((n, stats[n]) for n in STAT_NAMES))

    # --- actions ---------------------------------------------------------------------------------
    @admin.action(description="Hold: stop sending these editions", permissions=["change"])
    def hold(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        self.message_user(request, f"{hold_editions(queryset)} edition(s) held.", messages.SUCCESS)

    @admin.action(
        description="Release (approve): send at each reader's next delivery hour", permissions=["change"]
    )
    def release(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        self.message_user(request, f"{release_editions(queryset)} edition(s) released.", messages.SUCCESS)

    # --- preview, test send, hold / release buttons ------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="newsletter_edition_preview"),
            path(
                "<int:pk>/preview/html/", view(self.preview_html_view), name="newsletter_edition_preview_html"
            ),
            path("<int:pk>/test-send/", view(self.test_send_view), name="newsletter_edition_test_send"),
            path("<int:pk>/status/", view(self.status_view), name="newsletter_edition_status"),
            *super().get_urls(),
        ]

    def _edition(self, request: HttpRequest, pk: int, change: bool = False) -> Edition:
        edition = get_object_or_404(Edition, pk=pk)
        allowed = (
            self.has_change_permission(request, edition) if change else self.has_view_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        return edition

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        choice = choice_from(request.GET)
        preview, error = None, ""
        try:
            preview = render_preview(edition, choice)
        except UnknownReader as exc:
            error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of the {edition.listed_on:%d %B %Y} edition",
            "opts": self.model._meta,
            "original": edition,
            "edition": edition,
            "choice": choice,
            "personas": personas(),
            "preview": preview,
            "error": error,
            "query": request.GET.urlencode(),
            "can_send_test": bool(request.user.email),
        }
        return TemplateResponse(request, "admin/newsletter/edition/preview.html", context)

    def preview_html_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        try:
            preview = render_preview(edition, choice_from(request.GET))
        except UnknownReader as exc:
            raise Http404(str(exc)) from None
        if preview.message is None:
            raise Http404("This reader would get no email.")
        response = HttpResponse(preview.html)
        # Shown in an iframe: no scripts, links open in a new tab.
        response["Content-Security-Policy"] = "sandbox allow-popups allow-popups-to-escape-sandbox"
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    def test_send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._test_send)(request, pk)

    def _test_send(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        choice = choice_from(request.POST)
        back = reverse("admin:newsletter_edition_preview", args=[pk]) + "?" + request.POST.get("query", "")
        if not request.user.email:
            self.message_user(request, "Your account has no email address to send a test to.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            preview = send_test(edition, choice, request.user.email)
        except UnknownReader as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except Exception as exc:  # a refused or unreachable mail server: say so, do not crash
            self.message_user(request, f"The test could not be sent: {exc}", messages.ERROR)
        else:
            if preview.message is None:
                self.message_user(
                    request, f"{preview.label} would get no email: nothing sent.", messages.WARNING
                )
            else:
                self.message_user(
                    request, f"Test sent to {request.user.email} as {preview.label}.", messages.SUCCESS
                )
        return HttpResponseRedirect(back)

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._status)(request, pk)

    def _status(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk, change=True)
        queryset = Edition.objects.filter(pk=edition.pk)
        with transaction.atomic():
            if request.POST.get("do") == "hold":
                done = hold_editions(queryset)
                self.message_user(request, "Edition held." if done else "A sent edition cannot be held.")
            elif request.POST.get("do") == "release":
                done = release_editions(queryset)
                self.message_user(request, "Edition released." if done else "Only drafts and held editions.")
        return HttpResponseRedirect(reverse("admin:newsletter_edition_change", args=[pk]))


for _name in STAT_NAMES:

    def _column(self, edition: Edition, _n: str = _name) -> int:
        return self._stat(edition, _n)

    _column.short_description = _name  # type: ignore[attr-defined]
    setattr(EditionAdmin, f"stat_{_name}", _column)


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ["received_at", "esp", "event_type", "soft", "occurred_at", "description", "outcome"]
    readonly_fields = fields
    ordering = ["received_at"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):  # the ledger is written by the sender and webhooks only
    list_display = [
        "id",
        "edition",
        "subscriber",
        "status",
        "esp_status",
        "attempts",
        "sent_at",
        "paper_count",
    ]
    list_filter = ["status", "esp_status", "edition"]
    search_fields = ["subscriber__email", "esp_message_id"]
    list_select_related = ["edition", "subscriber"]
    readonly_fields = [*(f.name for f in Delivery._meta.fields), "papers_sent"]
    exclude = ["items"]
    inlines = [DeliveryEventInline]
    date_hierarchy = "sent_at"

    @admin.display(description="papers")
    def paper_count(self, delivery: Delivery) -> int:
        return len(delivery.items or [])

    @admin.display(description="papers sent, with the reasons given")
    def papers_sent(self, delivery: Delivery) -> str:
        papers = Paper.objects.in_bulk([item["paper"] for item in delivery.items or []])
        rows = [
            (papers[i["paper"]].arxiv_id, papers[i["paper"]].title[:120], "; ".join(i.get("reasons", [])))
            for i in delivery.items or []
            if i["paper"] in papers
        ]
        if not rows:
            return "None."
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}: {} <em>({})</em></li>", rows))


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyModelAdmin):
    list_display = [
        "received_at",
        "esp",
        "event_type",
        "soft",
        "recipient",
        "delivery",
        "outcome",
        "processed_at",
    ]
    list_filter = ["esp", "event_type", "soft"]
    search_fields = ["recipient", "message_id", "esp_event_id"]
    readonly_fields = [f.name for f in DeliveryEvent._meta.fields]
    list_select_related = ["delivery"]
    date_hierarchy = "received_at"
