from django.contrib import admin

from subscribers.models import Subscriber, SuppressedAddress, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active", "order", "subscriber_count"]
    list_editable = ["active", "order"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "include_terms"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="subscribers")
    def subscriber_count(self, topic: Topic) -> int:
        return topic.subscribers.count()


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "frequency", "time_zone", "created_at", "confirmed_at"]
    list_filter = ["status", "frequency", "include_trending", "topics"]
    search_fields = ["email"]
    filter_horizontal = ["topics"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "public_id", "consent_at", "consent_ip", "consent_user_agent", "consent_version", "consent_text",
        "confirmed_at", "unsubscribed_at", "created_at", "updated_at",
    ]  # fmt: skip
    exclude = ["confirm_nonce"]


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Deleting a row here lets that address sign up again."""

    list_display = ["address_hash", "reason", "created_at"]
    readonly_fields = ["address_hash", "reason", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
