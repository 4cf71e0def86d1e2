"""Curators hear once about a failed day or an empty weekday, never about a normal weekend."""

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone

from papers.alerts import alert_failed_run, check_empty_weekday, curator_emails
from papers.models import Paper, PaperListing, ScrapeAlert, ScrapeRun

pytestmark = pytest.mark.django_db

THURSDAY = date(2024, 8, 1)


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = [("Curator", "carol@example.test")]
    settings.SCRAPE_EMPTY_ALERT_HOUR = 18


def failed_run(day: date = THURSDAY, error: str = "page: HTTP 500; API: HTTP 500") -> ScrapeRun:
    return ScrapeRun.objects.create(
        day=day,
        url="http://127.0.0.1/papers/date/x",
        status="failed",
        error=error,
        started_at=timezone.now(),
        duration=timedelta(seconds=1),
    )


def test_curators_are_admins_plus_the_curators_group():
    group = Group.objects.get_or_create(name="Curators")[0]  # the migration creates it
    dave = User.objects.create_user("dave", "dave@example.test")
    dave.groups.add(group)
    gone = User.objects.create_user("erin", "erin@example.test", is_active=False)
    gone.groups.add(group)
    no_mail = User.objects.create_user("frank", "")
    no_mail.groups.add(group)
    dup = User.objects.create_user("carol", "Carol@Example.test")
    dup.groups.add(group)
    User.objects.create_user("outsider", "outsider@example.test")
    assert curator_emails() == ["carol@example.test", "dave@example.test"]


def test_without_a_curators_group_admins_alone_are_alerted():
    assert curator_emails() == ["carol@example.test"]


def test_a_failed_day_is_mailed_once_with_the_error():
    assert alert_failed_run(failed_run()) is True
    assert alert_failed_run(failed_run()) is False  # a retry, a later beat tick
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.test"]
    assert message.subject == "Paperboy: scraping the papers of Thu 1 Aug 2024 failed"
    assert "page: HTTP 500; API: HTTP 500" in message.body
    assert "python manage.py scrape_papers --date 2024-08-01" in message.body
    assert "/admin/papers/scraperun/" in message.body
    assert ScrapeAlert.objects.get().kind == "failed"


def test_another_failed_day_gets_its_own_alert():
    alert_failed_run(failed_run(THURSDAY))
    alert_failed_run(failed_run(THURSDAY + timedelta(days=1)))
    assert len(mail.outbox) == 2


def test_scraped_text_in_an_alert_is_escaped():
    alert_failed_run(failed_run(error='unexpected <script>alert("x")</script>'))
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_failed_send_leaves_the_alert_to_the_next_attempt(settings):
    settings.EMAIL_BACKEND = "tests.papers.test_alerts.FailingBackend"
    with pytest.raises(ConnectionError):
        alert_failed_run(failed_run())
    assert not ScrapeAlert.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alert_failed_run(failed_run()) is True


def test_no_curator_means_no_alert_and_no_claim(settings):
    settings.ADMINS = []
    assert alert_failed_run(failed_run()) is False
    assert not ScrapeAlert.objects.exists()


@time_machine.travel("2024-08-01 18:30:00Z", tick=False)
def test_an_empty_weekday_past_the_hour_is_mailed_once():
    failed_run(error="the page shows 2024-07-31, not 2024-08-01")
    assert check_empty_weekday() is True
    assert check_empty_weekday() is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Paperboy: no papers listed yet for Thu 1 Aug 2024"
    assert "the page shows 2024-07-31, not 2024-08-01" in mail.outbox[0].body


@time_machine.travel("2024-08-01 17:59:00Z", tick=False)
def test_an_empty_weekday_before_the_hour_is_not_yet_a_problem():
    assert check_empty_weekday() is False
    assert mail.outbox == []


@time_machine.travel("2024-08-03 23:00:00Z", tick=False)
def test_an_empty_weekend_is_normal():
    assert check_empty_weekday() is False
    assert mail.outbox == []


@time_machine.travel("2024-08-01 19:00:00Z", tick=False)
def test_a_weekday_with_papers_is_fine():
    paper = Paper.objects.create(arxiv_id="2407.21783", title="Llama", first_listed_on=THURSDAY)
    PaperListing.objects.create(paper=paper, listed_on=THURSDAY)
    assert check_empty_weekday() is False
    assert mail.outbox == []


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("SMTP down")
