from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from newsletter.editions import refresh_scores
from newsletter.models import Delivery, Edition


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["listed_on", "status", "released_at", "sent_at"]
    list_filter = ["status"]
    date_hierarchy = "listed_on"
    autocomplete_fields = ["picks", "hidden"]
    readonly_fields = ["released_at", "sent_at", "created_at"]
    actions = ["hold", "release"]

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Picks may add papers from other days: rank them too.
        refresh_scores(form.instance)

    @admin.action(description="Hold: stop sending these editions")
    def hold(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        held = queryset.exclude(status=Edition.Status.SENT).update(status=Edition.Status.HELD)
        self.message_user(request, f"{held} edition(s) held.", messages.SUCCESS)

    @admin.action(description="Release: send at each reader's next delivery hour")
    def release(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        released = queryset.filter(status__in=[Edition.Status.DRAFT, Edition.Status.HELD]).update(
            status=Edition.Status.SCHEDULED, released_at=timezone.now()
        )
        self.message_user(request, f"{released} edition(s) released.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "edition", "subscriber", "status", "attempts", "sent_at"]
    list_filter = ["status", "edition"]
    search_fields = ["subscriber__email", "esp_message_id"]
    list_select_related = ["edition", "subscriber"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
