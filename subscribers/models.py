"""Topics readers pick, subscribers and their consent, and addresses that are never mailed again."""

import unicodedata
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from papers.matching import Matcher, compile_matcher


class Topic(models.Model):
    """A curated subject. Include and exclude terms are words or phrases, one per line or
    comma-separated; see papers.matching for how they match."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=240, blank=True)
    include_terms = models.TextField(help_text="Words and phrases, one per line.")
    exclude_terms = models.TextField(blank=True, help_text="A paper with any of these never matches.")
    active = models.BooleanField(default=True, help_text="Inactive topics are hidden from readers.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def matcher(self) -> Matcher:
        return compile_matcher(self.include_terms, self.exclude_terms)


class Status(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    PAUSED = "paused", "Paused"


WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")]
WEEKDAYS += [(5, "Saturday"), (6, "Sunday")]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


def validate_single_line(value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValidationError("Line breaks are not allowed here.")


def normalise_email(raw: str) -> str:
    """One spelling per address: NFC, trimmed, lower-case (mailbox parts are case-insensitive
    in practice, and a second row for "Alice@" would double every digest)."""
    return unicodedata.normalize("NFC", raw.strip()).lower()


class SubscriberQuerySet(models.QuerySet):
    def with_email(self, email: str) -> "SubscriberQuerySet":
        """Case-insensitive, through the unique index on LOWER(email) (email__iexact would
        compile to UPPER(...) = UPPER(...) and scan the whole table)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())

    def by_email(self, email: str) -> "Subscriber | None":
        """The reader with this address, or None. get() rather than first(): the address is
        unique, and first() would sort by created_at for nothing (a twentieth of a sign-up's CPU)."""
        try:
            return self.with_email(email).get()
        except Subscriber.DoesNotExist:
            return None


class Subscriber(models.Model):
    """A reader. Links in emails name `public_id`, never the address; statuses other than
    active are never sent a digest."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(max_length=254, validators=[validate_single_line])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)

    topics = models.ManyToManyField(Topic, blank=True, related_name="subscribers")
    keywords = models.JSONField(default=list, blank=True, help_text="Own words and phrases to match.")
    excluded_keywords = models.JSONField(default=list, blank=True, help_text="Papers with these never sent.")
    followed_authors = models.JSONField(default=list, blank=True, help_text="Author names, exact.")

    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0, help_text="For weekly digests.")
    paused_until = models.DateField(null=True, blank=True, help_text="Empty while paused: until resumed.")
    # What a pause returns to, so a weekly reader back from holiday stays weekly.
    frequency_before_pause = models.CharField(
        max_length=8, choices=Frequency.choices[:2], default=Frequency.DAILY
    )
    delivery_hour = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(23)])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    max_papers = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    min_upvotes = models.PositiveIntegerField(default=0)
    include_trending = models.BooleanField(
        default=False, help_text="Also send the top trending papers, in a section after the reader's own."
    )

    # Consent: what the reader agreed to, when and from where.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_user_agent = models.CharField(max_length=500, blank=True)
    consent_version = models.CharField(max_length=32, blank=True)
    consent_text = models.TextField(blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Rotated when a confirmation link is used, so a link works once.
    confirm_nonce = models.CharField(max_length=32, blank=True)

    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # Part of the private feed's link; a new one revokes every old link.
    feed_key = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the tick groups readers of equal preferences by, and the updated_at it was computed
    # for: a save makes it stale (subscribers.profile_keys).
    profile_key = models.BigIntegerField(null=True, blank=True, editable=False)
    profile_key_of = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_subscriber_email_ci")]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"

    @property
    def keyword_matcher(self) -> Matcher:
        return compile_matcher(self.keywords, self.excluded_keywords)


class SuppressedAddress(models.Model):
    """An address erased at its owner's request (or by a curator): only a keyed hash is kept,
    so it can be recognised and never mailed again without being stored."""

    address_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=32, default="erased")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"{self.address_hash[:12]}… ({self.reason})"


class Vote(models.Model):
    """A reader's "more like this" (+1) or "less like this" (-1) on a paper; one per paper,
    changed or taken back from the digest or the preference centre."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=[(1, "More like this"), (-1, "Less like this")])
    created_at = models.DateTimeField(auto_now=True)
    # What the paper looked like when the reader last heard of it: news is what changed since.
    seen_upvotes = models.PositiveIntegerField(default=0)
    seen_code = models.BooleanField(default=False)
    seen_project = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "paper"], name="unique_vote_per_paper")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subscriber_id} {'+' if self.value > 0 else '-'} {self.paper_id}"


class ReaderModel(models.Model):
    """What Paperboy learned from a reader's votes: a weight per word stem (a linear model over
    the words of title, abstract and AI keywords), used by ranking beside topic matching."""

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE, related_name="learned")
    weights = models.JSONField(default=dict)
    bias = models.FloatField(default=0.0)
    # Recently liked papers ({"title", "stems"}), to say "like 'X', which you liked".
    examples = models.JSONField(default=list)
    votes_used = models.PositiveIntegerField(default=0)
    trained_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"model of {self.subscriber_id} ({self.votes_used} votes)"
