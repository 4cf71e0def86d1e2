"""Papers in the curator console: their matched topics and the edition actions (picks, hide).
Scraped text is shown through Django's escaping only: nothing here marks a scraped value safe
(format_html escapes its arguments)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from config.admin import ModelAdmin
from newsletter.models import Edition
from newsletter.sending.editions import refresh_scores
from papers.admin import URL_FIELDS
from papers.classifier.store import SCORED_FIELDS, mark
from papers.models import Paper, PaperListing
from papers.scores import topics_of
from subscribers.models import Topic

UPVOTE_RANGES = [("0-9", "fewer than 10", 0, 9), ("10-49", "10 to 49", 10, 49)]
UPVOTE_RANGES += [("50-99", "50 to 99", 50, 99), ("100+", "100 or more", 100, None)]


def matched_topics(papers: list[Paper], topics: list[Topic]) -> dict[int, list[str]]:
    """Names of the topics each paper is in (the classifier's verdict, or a new topic's terms)."""
    names = {str(t.pk): t.name for t in topics}
    return {paper.pk: [names[key] for key in found] for paper, found in topics_of(papers, topics)}


def papers_in(topic: Topic, queryset: QuerySet[Paper]) -> QuerySet[Paper]:
    papers = queryset.order_by().only("pk", "title", "abstract", "ai_keywords", *SCORED_FIELDS)
    chosen = [paper.pk for paper, found in topics_of(list(papers), [topic]) if found]
    return queryset.filter(pk__in=chosen)


def editions_for(papers: QuerySet[Paper], chosen: Edition | None) -> dict[Edition, list[Paper]]:
    """The chosen edition, or else each paper's own unsent editions (its listing days)."""
    if chosen is not None:
        return {chosen: list(papers)}
    by_edition: dict[Edition, list[Paper]] = {}
    days = PaperListing.objects.filter(paper__in=papers).values_list("listed_on", "paper_id")
    editions = {e.listed_on: e for e in Edition.objects.exclude(status=Edition.Status.SENT)}
    papers_by_id = {p.pk: p for p in papers}
    for day, paper_id in days:
        if day in editions:
            by_edition.setdefault(editions[day], []).append(papers_by_id[paper_id])
    return by_edition


class UpvoteFilter(admin.SimpleListFilter):
    title = "upvotes"
    parameter_name = "upvotes"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _, _ in UPVOTE_RANGES]

    def queryset(self, request, queryset):
        for key, _, low, high in UPVOTE_RANGES:
            if self.value() == key:
                queryset = queryset.filter(upvotes__gte=low)
                return queryset.filter(upvotes__lte=high) if high is not None else queryset
        return queryset


class TopicFilter(admin.SimpleListFilter):
    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        return [(t.slug, t.name) for t in Topic.objects.filter(active=True)]

    def queryset(self, request, queryset):
        topic = Topic.objects.filter(slug=self.value()).first() if self.value() else None
        return papers_in(topic, queryset) if topic else queryset


class PaperActionForm(ActionForm):
    edition = forms.ModelChoiceField(
        queryset=Edition.objects.exclude(status=Edition.Status.SENT),
        required=False,
        empty_label="the papers' own editions",
        label="Edition",
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.filter(active=True), required=False, empty_label="(a topic)", label="Topic"
    )


class PaperChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # Topics are matched once per page, not once per row and topic query.
        matched = matched_topics(list(self.result_list), list(Topic.objects.filter(active=True)))
        for paper in self.result_list:
            paper.matched = matched[paper.pk]


class PaperListingInline(admin.TabularInline):
    model = PaperListing
    extra = 0
    fields = ["listed_on"]
    readonly_fields = ["listed_on"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Paper)
class PaperAdmin(ModelAdmin):
    list_display = ["arxiv_id", "title", "first_listed_on", "upvotes", "num_comments", "in_topics", "links"]
    list_filter = [("listings__listed_on", admin.DateFieldListFilter), UpvoteFilter, TopicFilter]
    search_fields = ["=arxiv_id", "title", "abstract", "authors", "submitted_by"]
    date_hierarchy = "first_listed_on"
    readonly_fields = ["counts_observed_at", "created_at", "updated_at", "links", "in_topics"]
    inlines = [PaperListingInline]
    formfield_overrides = URL_FIELDS
    action_form = PaperActionForm
    actions = ["add_to_picks", "hide_from_editions", "show_in_editions", "mark_in_topic", "mark_not_in_topic"]
    fieldsets = [
        (None, {"fields": ["arxiv_id", "title", "authors", "first_listed_on", "links", "in_topics"]}),
        (
            "Shown in digests",
            {
                "fields": ["ai_summary"],
                "description": "The summary under the title in every digest; "
                "empty: the abstract's first sentences.",
            },
        ),
        ("Abstract and keywords", {"fields": ["abstract", "ai_keywords"], "classes": ["collapse"]}),
        (
            "Links and counts",
            {
                "fields": [
                    *["github_repo", "project_page", "thumbnail", "upvotes", "num_comments"],
                    *["counts_observed_at", "submitted_by", "created_at", "updated_at"],
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    def get_changelist(self, request: HttpRequest, **kwargs):
        return PaperChangeList

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "ai_summary" and field is not None:
            field.label = "Summary shown"
        return field

    @admin.display(description="topics")
    def in_topics(self, paper: Paper) -> str:
        names = getattr(paper, "matched", None)
        if names is None:
            names = matched_topics([paper], list(Topic.objects.filter(active=True)))[paper.pk]
        return ", ".join(names) or "—"

    @admin.display(description="links")
    def links(self, paper: Paper) -> str:
        return format_html(
            '<a href="{}" rel="noreferrer">arXiv</a> · <a href="{}" rel="noreferrer">PDF</a>'
            ' · <a href="{}" rel="noreferrer">HF</a>',
            paper.arxiv_url,
            paper.pdf_url,
            paper.hf_url,
        )

    def _chosen(self, request: HttpRequest, name: str) -> Edition | Topic | None:
        """The edition or topic picked beside the action. Only that field is checked: the form's
        `action` field gets its choices from the admin, so a whole-form check always failed."""
        try:
            return PaperActionForm.base_fields[name].clean(request.POST.get(name) or None)
        except ValidationError:
            return None

    def _curate(self, request: HttpRequest, queryset: QuerySet[Paper], field: str, add: bool) -> None:
        targets = editions_for(queryset, self._chosen(request, "edition"))
        if not targets:
            self.message_user(
                request, "None of these papers is in an edition not yet sent.", messages.WARNING
            )
            return
        with transaction.atomic():
            for edition, papers in targets.items():
                related = getattr(edition, field)
                if add:
                    related.add(*papers)
                else:
                    related.remove(*papers)
                if field == "picks":
                    edition.hidden.remove(*papers)
                elif add:
                    edition.picks.remove(*papers)
                refresh_scores(edition)
        names = ", ".join(f"{e.listed_on:%Y-%m-%d}" for e in targets)
        self.message_user(
            request, f"{queryset.count()} paper(s) updated in edition(s) {names}.", messages.SUCCESS
        )

    def _mark(self, request: HttpRequest, queryset: QuerySet[Paper], is_in: bool) -> None:
        topic = self._chosen(request, "topic")
        if topic is None:
            self.message_user(request, "Choose the topic to mark the papers for.", messages.WARNING)
            return
        with transaction.atomic():
            for paper in queryset:
                mark(paper, topic.slug, is_in, request.user.get_username())
        where = "in" if is_in else "not in"
        self.message_user(
            request,
            f"{queryset.count()} paper(s) marked {where} {topic.name}: the next retrain learns from it "
            "(Topic models, “Retrain now”).",
            messages.SUCCESS,
        )

    @admin.action(
        description="Mark as about the chosen topic (for the next training)", permissions=["change"]
    )
    def mark_in_topic(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self._mark(request, queryset, is_in=True)

    @admin.action(
        description="Mark as not about the chosen topic (for the next training)", permissions=["change"]
    )
    def mark_not_in_topic(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self._mark(request, queryset, is_in=False)

    @admin.action(description="Add to the editor's picks of an edition", permissions=["change"])
    def add_to_picks(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self._curate(request, queryset, "picks", add=True)

    @admin.action(description="Hide from editions", permissions=["change"])
    def hide_from_editions(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self._curate(request, queryset, "hidden", add=True)

    @admin.action(description="Show again in editions (undo hide)", permissions=["change"])
    def show_in_editions(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self._curate(request, queryset, "hidden", add=False)
