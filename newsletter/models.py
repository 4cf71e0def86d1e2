from django.db import models
from django.db.models import Q


class Heartbeat(models.Model):
    """When a Celery worker last ran the heartbeat task that beat schedules every minute.

    /healthz reports its age, so an operator can see that beat and a worker are alive.
    """

    source = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Edition(models.Model):
    """The digest of one listing day. Ranking for a subscriber starts from `scores`, computed
    once per edition: everything about a paper that does not depend on who reads it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        HELD = "held", "Held by a curator"

    listed_on = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    curator_note = models.TextField(blank=True, help_text="Plain text, shown at the top of every digest.")
    picks = models.ManyToManyField("papers.Paper", blank=True, related_name="picked_in")
    hidden = models.ManyToManyField("papers.Paper", blank=True, related_name="hidden_in")
    # {"papers": {paper_id: {"upvotes": n, "popularity": 0..1, "topics": {topic_id: [terms]}}}}
    scores = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it became sendable: each reader gets it at their first delivery hour after this.
    released_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-listed_on"]

    def __str__(self) -> str:
        return f"Edition {self.listed_on:%Y-%m-%d} ({self.status})"

    @property
    def is_released(self) -> bool:
        return self.status in {self.Status.SCHEDULED, self.Status.SENDING, self.Status.SENT}


class EspStatus(models.TextChoices):
    """A delivery's fate as the ESP's webhooks tell it, from least to most telling."""

    DEFERRED = "deferred", "Deferred (soft bounce)"
    DELIVERED = "delivered", "Delivered"
    REJECTED = "rejected", "Rejected by the ESP"
    BOUNCED = "bounced", "Bounced"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the ESP"
    COMPLAINED = "complained", "Complained (spam)"


class Delivery(models.Model):
    """The ledger: at most one digest per (subscriber, edition). A worker sends only the rows it
    claimed (pending -> sending), so a redelivered task or a second worker never sends twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Claimed but never confirmed (a worker died mid-send): maybe sent, so never resent
        # automatically.
        UNKNOWN = "unknown", "Unknown"
        # Nothing matched and the reader did not ask for trending papers: no email.
        SKIPPED = "skipped", "Skipped (nothing to send)"

    # No index of its own: the unique (subscriber, edition) one serves lookups by subscriber.
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # On PostgreSQL the edition's key is kept by triggers (migration 0009), not by a foreign
    # key: PostgreSQL checks a foreign key once per inserted row, a third of a tick's time for
    # 100,000 rows; the trigger checks once per statement. Same guarantees: no delivery of a
    # missing edition, no deleting an edition that has deliveries. SQLite keeps the foreign key
    # (tests/newsletter/test_edition_guard.py checks both).
    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="deliveries", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    # What was sent: [{"paper": id, "reasons": [...]}], so the browser view shows the same digest.
    items = models.JSONField(default=list, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    # What the ESP reported last (webhooks), kept apart from `status`, which the sender owns.
    esp_status = models.CharField(max_length=16, choices=EspStatus.choices, blank=True)
    esp_status_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "edition"], name="unique_delivery_per_edition")
        ]
        # Declared here, not with db_index: on PostgreSQL a CharField's db_index adds a second,
        # LIKE-only index. A tick inserts 100,000 rows and each send updates them twice (each
        # update a new row version in every index), so every index costs: 13 became 8, then 4
        # full ones. The lookups by token, message id and ESP status always name a value, so
        # their indexes leave out the empty one: a new row (all three empty) enters none of them.
        # Lookups by subscriber go through the unique (subscriber, edition) index.
        indexes = [
            models.Index(fields=["status"], name="delivery_status"),
            models.Index(fields=["claim_token"], name="delivery_claim_token", condition=~Q(claim_token="")),
            models.Index(
                fields=["esp_message_id"], name="delivery_esp_message_id", condition=~Q(esp_message_id="")
            ),
            models.Index(fields=["esp_status"], name="delivery_esp_status", condition=~Q(esp_status="")),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"Delivery {self.pk} of {self.edition_id} to {self.subscriber_id} ({self.status})"


class SentPaper(models.Model):
    """Every paper a subscriber was sent, so no digest repeats one."""

    # Neither has an index of its own: the unique (subscriber, paper) one serves lookups by
    # subscriber, and nothing looks rows up by paper alone (deleting a paper scans). A send
    # inserts every row into each index, and on statistics from before a send PostgreSQL used
    # one by paper to answer a chunk's "which of these papers did these readers get" by reading
    # every row of the edition's papers sent so far.
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="sent_papers")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "paper"], name="unique_sent_paper")]

    def __str__(self) -> str:
        return f"paper {self.paper_id} to subscriber {self.subscriber_id}"


class DeliveryEvent(models.Model):
    """One ESP webhook event, stored once however often the ESP resends it (unique on
    `dedupe_key`: the ESP's event id, or a hash of what identifies the event when it has none).
    `processed_at` is set once a worker applied it to the ledger and the subscriber."""

    esp = models.CharField(max_length=32)
    event_type = models.CharField(max_length=20, db_index=True)
    dedupe_key = models.CharField(max_length=255)
    esp_event_id = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    mta_response = models.TextField(blank=True)
    soft = models.BooleanField(default=False, help_text="A temporary failure (soft bounce).")
    payload = models.JSONField(default=dict, blank=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["esp", "dedupe_key"], name="unique_esp_event")]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.esp} {self.event_type} for {self.recipient or '?'}"
