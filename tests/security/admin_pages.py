"""Every admin page Paperboy adds or customises, for the checkers and the escaping tests. The pages
are listed from the admin registrations of our apps and the admin routes of config/urls.py, not by
hand: a new ModelAdmin, custom admin view or admin route is visited without editing a list here."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client, override_settings
from django.urls import URLPattern, reverse
from django.utils import timezone

from config.celery import app as celery_app
from config.urls import urlpatterns
from newsletter.models import DeliveryEvent, Edition
from papers.models import ScrapeAlert, ScrapeRun, TopicModelVersion
from subscribers.models import SuppressedAddress
from tests.security.site import Site

OUR_APPS = ("papers", "subscribers", "newsletter")


@dataclass
class AdminPage:
    url: str
    status: int
    content_type: str
    html: str
    template: str  # the one the view rendered (its first), "" for none

    @property
    def is_document(self) -> bool:
        """A whole page, not a fragment fetched by the admin's scripts (topic matches)."""
        return self.html.lstrip()[:15].lower() == "<!doctype html>"


def add_console_rows(site: Site, text: str = "") -> dict[type[Model], Model]:
    """The rows build_site does not make, so that every admin has an object to show: an ESP
    event, a scrape run and its alert, a suppressed address, a topic model, and logged changes of a paper and
    a topic (the index's recent actions and the history pages show their names). Returns the
    row each admin's object pages are to show, by model: those carrying `text`."""
    marked = f" {text}" if text else ""
    event = DeliveryEvent.objects.create(
        esp="postmark",
        event_type="bounced",
        dedupe_key="k1",
        delivery=site.delivery,
        subscriber=site.reader,
        recipient=site.reader.email,
        description=f"Mailbox full{marked}",
    )
    run = ScrapeRun.objects.create(
        day=site.edition.listed_on,
        url="https://huggingface.co/papers/date/2026-03-04",
        status="failed",
        started_at=timezone.now(),
        duration=timedelta(seconds=2),
        error=f"HTTP 503{marked}",
    )
    alert = ScrapeAlert.objects.create(kind="failed", day=site.edition.listed_on, run=run)
    suppressed = SuppressedAddress.objects.create(address_hash="a" * 64)
    # A failed training (a ready one would be loaded as the model in use).
    model = TopicModelVersion.objects.create(status="failed", progress=f"failed: no labels{marked}")
    topic = site.reader.topics.get()
    for changed in (site.paper, topic):
        LogEntry.objects.log_actions(
            user_id=admin_user().pk,
            queryset=[changed],
            action_flag=CHANGE,
            change_message=f"Changed the name{marked}.",
        )
    rows = [site.paper, topic, site.reader, site.edition, site.delivery, event, run, alert, suppressed, model]
    return {type(row): row for row in rows}


def admin_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="curator",
        defaults={"email": "curator@example.test", "is_staff": True, "is_superuser": True},
    )
    return user


def admin_urls(rows: dict[type[Model], Model]) -> dict[str, str]:
    """URL name -> URL of every admin page of our apps; the pages about one object show its row
    in `rows`. Fails on a model without one: give it one in add_console_rows."""
    urls = {"index": reverse("admin:index")}
    urls |= {f"app_list {app}": reverse("admin:app_list", args=[app]) for app in OUR_APPS}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        obj = rows.get(model)
        assert obj is not None, f"no {model.__name__} in the test site: add one in add_console_rows"
        for pattern in model_admin.get_urls():
            if pattern.name is None:  # <id>/ redirecting to <id>/change/
                continue
            kwargs = {name: obj.pk for name in pattern.pattern.converters}
            urls[pattern.name] = reverse(f"admin:{pattern.name}", kwargs=kwargs)
    # Admin routes of our own outside admin.site (the dashboard, the rate-limited login).
    for pattern in urlpatterns:
        if isinstance(pattern, URLPattern) and str(pattern.pattern).startswith("admin/"):
            urls[pattern.name] = reverse(pattern.name)
    return urls


def _page(response) -> AdminPage:
    return AdminPage(
        url=response.request["PATH_INFO"],
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        html=response.content.decode(),
        template=response.templates[0].name if response.templates else "",
    )


def post_only(client: Client, url: str):
    """A POST-only view's page. "Retrain now" queues its training without running it here: the
    page is what is checked (tests/papers/test_topic_training.py trains for real)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager and not url.endswith("/topicmodelversion/retrain/")
    try:
        return client.post(url, follow=True)
    finally:
        celery_app.conf.task_always_eager = eager


def fetch_admin_pages(client: Client, rows: dict[type[Model], Model]) -> dict[str, AdminPage]:
    """Every admin page as a signed-in superuser gets it. A page that redirects a signed-in user
    (the login) is fetched signed out; a POST-only view (test send, hold / release) is posted to
    and the page it leads to, with its message, is kept. The login page after too many attempts
    (429) is added."""
    user = admin_user()
    client.force_login(user)
    anonymous = Client()
    pages = {}
    for name, url in admin_urls(rows).items():
        response = client.get(url)
        if response.status_code == 302:
            response = anonymous.get(url)
        elif response.status_code == 405:
            response = post_only(client, url)
        pages[name] = _page(response)
    pages |= {name: _page(response) for name, response in _variants(client, rows[Edition]).items()}
    with override_settings(ADMIN_LOGIN_RATE="1/h"):
        login = reverse("admin-login")
        for _ in range(2):
            response = anonymous.post(login, {"username": "x", "password": "y"}, REMOTE_ADDR="192.0.2.99")
        pages["login (too many attempts)"] = _page(response)
    return pages


def _variants(client: Client, edition: Edition) -> dict[str, object]:
    """The states of our own pages that a plain GET does not show: a preview for an unknown
    reader, the import form with errors and with its table of skipped rows, wider dashboards."""
    preview = reverse("admin:newsletter_edition_preview", args=[edition.pk])
    import_url = reverse("admin:subscribers_subscriber_import")
    csv = "email\nnew-reader@example.test\nalice@example.test\nnot an address\n"
    upload = SimpleUploadedFile("readers.csv", csv.encode(), content_type="text/csv")
    note = "Signed up on paper at the March meetup."
    return {
        "preview (unknown reader)": client.get(preview, {"subscriber": "nobody@example.test"}),
        "preview (weekly persona)": client.get(preview, {"persona": "all-topics", "weekly": "1"}),
        "import (errors)": client.post(import_url, {"consent_note": "x"}),
        "import (skipped rows)": client.post(import_url, {"file": upload, "consent_note": note}),
        "dashboard (365 days)": client.get(reverse("admin-dashboard"), {"days": "365"}),
        "topic matches (terms)": client.get(
            reverse("admin:subscribers_topic_matches"), {"include": "segmentation\nvision", "exclude": "x"}
        ),
    }
