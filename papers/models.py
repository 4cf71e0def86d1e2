"""The paper store: one row per arXiv paper, however many days it was listed."""

from datetime import date

from django.db import models


class Paper(models.Model):
    """A paper from the Hugging Face Daily Papers listing. Every text field is plain text:
    templates escape it like any other user-supplied string."""

    arxiv_id = models.CharField(max_length=32, unique=True, help_text="Canonical id, no version suffix.")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    # Author names in listed order, hidden authors excluded.
    authors = models.JSONField(default=list, blank=True)
    github_repo = models.URLField(max_length=500, blank=True)
    project_page = models.URLField(max_length=500, blank=True)
    thumbnail = models.URLField(max_length=500, blank=True)
    upvotes = models.PositiveIntegerField(default=0)
    num_comments = models.PositiveIntegerField(default=0)
    counts_observed_at = models.DateTimeField(null=True, blank=True)
    ai_summary = models.TextField(blank=True)
    ai_keywords = models.JSONField(default=list, blank=True)
    submitted_by = models.CharField(max_length=200, blank=True)
    first_listed_on = models.DateField(db_index=True)
    # The topic classifier's verdict (papers.classifier), written when the paper is stored or
    # re-scraped and after a retrain: a probability per topic slug, the slugs it is in, and the
    # paper's words that weighed most for each of those. Empty until classified.
    topic_scores = models.JSONField(default=dict, blank=True)
    topics = models.JSONField(default=list, blank=True)
    topic_evidence = models.JSONField(default=dict, blank=True)
    topic_model = models.ForeignKey(
        "TopicModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-first_listed_on", "-upvotes"]

    def __str__(self) -> str:
        return f"{self.arxiv_id}: {self.title[:80]}"

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.arxiv_id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"


def latest_listing_day() -> date | None:
    """The most recent day any listing was stored for (None for an empty store)."""
    return PaperListing.objects.aggregate(latest=models.Max("listed_on"))["latest"]


class PaperListing(models.Model):
    """One day a paper appeared on the listing. A paper listed on two days has two rows."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="listings")
    listed_on = models.DateField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paper", "listed_on"], name="unique_paper_listing")]
        ordering = ["-listed_on"]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id} on {self.listed_on}"


class ScrapeRun(models.Model):
    """One attempt at scraping one day's listing: what was used, what it changed, how it ended."""

    class Source(models.TextChoices):
        ISLAND = "island", "page data (island)"
        CARDS = "cards", "page cards"
        API = "api", "JSON API"

    class Status(models.TextChoices):
        OK = "ok"
        EMPTY = "empty"
        FAILED = "failed"

    day = models.DateField(db_index=True)
    url = models.URLField(max_length=500)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Listing items that could not be read.")
    started_at = models.DateTimeField(db_index=True)
    duration = models.DurationField()
    error = models.TextField(blank=True)
    warnings = models.TextField(blank=True)
    retryable = models.BooleanField(default=False, help_text="The failure may pass: the task retries.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["day", "status"], name="scraperun_day_status")]

    def __str__(self) -> str:
        return f"{self.day} {self.status} ({self.source or 'no source'})"

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged


class ScrapeAlert(models.Model):
    """An alert email already sent, so a condition is reported once per day, not per retry or tick."""

    class Kind(models.TextChoices):
        FAILED = "failed", "scrape failed"
        EMPTY = "empty", "weekday still empty"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.TextField(blank=True)
    run = models.ForeignKey(ScrapeRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="unique_scrape_alert")]
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.day}"


class TopicModelVersion(models.Model):
    """A topic model trained on this install (the shipped labels plus curators' marks). The newest
    finished one is used; with none, the model shipped with Paperboy. Kept in the database so that
    every worker, on any machine, scores papers with the same model."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    progress = models.CharField(max_length=200, blank=True)
    data = models.BinaryField(blank=True, default=b"")
    info = models.JSONField(default=dict, blank=True, help_text="Held-out figures per topic.")
    marks = models.PositiveIntegerField(default=0, help_text="Curators' marks it learned from.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "topic model"

    def __str__(self) -> str:
        return f"Topic model {self.pk} ({self.get_status_display().lower()})"


class TopicMark(models.Model):
    """A curator's judgement: this paper is (or is not) about this topic. The next training
    learns from it; it outweighs the shipped label of the same paper."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="topic_marks")
    topic = models.SlugField(max_length=64, help_text="The topic's slug.")
    is_in = models.BooleanField()
    marked_by = models.CharField(max_length=150, blank=True)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paper", "topic"], name="unique_topic_mark")]
        ordering = ["-marked_at"]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id} {'in' if self.is_in else 'not in'} {self.topic}"
