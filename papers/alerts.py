"""Tell the curators when ingestion needs a human: a failed scrape, or a weekday still empty.

Each condition is mailed once per day: a ScrapeAlert row is claimed (unique per kind and day)
before sending, so retries, overlapping beat ticks and later runs of the check send nothing more.
"""

import logging
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from config.emails import send_email
from papers.models import PaperListing, ScrapeAlert, ScrapeRun

logger = logging.getLogger(__name__)

CURATORS_GROUP = "Curators"


def curator_emails() -> list[str]:
    """ADMINS plus the active members of the Curators group who have an address, each once.
    The group may not exist yet: then ADMINS alone."""
    addresses = [address for _name, address in settings.ADMINS]
    addresses += (
        get_user_model()
        .objects.filter(groups__name=CURATORS_GROUP, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    unique: dict[str, str] = {}
    for address in addresses:
        unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def claim_alert(kind: str, day: date, recipients: list[str], run: ScrapeRun | None) -> ScrapeAlert | None:
    """The new ScrapeAlert row, or None when this alert was already sent."""
    try:
        with transaction.atomic():
            return ScrapeAlert.objects.create(kind=kind, day=day, recipients=", ".join(recipients), run=run)
    except IntegrityError:
        return None


def send_alert(kind: str, day: date, context: dict, run: ScrapeRun | None = None) -> bool:
    """Claim, then send; a send that fails releases the claim so the next attempt retries."""
    recipients = curator_emails()
    if not recipients:
        logger.error("no curator to alert (%s for %s): set ADMINS or add a Curators group", kind, day)
        return False
    alert = claim_alert(kind, day, recipients, run)
    if alert is None:
        return False
    runs_url = settings.SITE_URL + reverse("admin:papers_scraperun_changelist")
    context = {"day": day, "run": run, "runs_url": runs_url, **context}
    try:
        send_email(f"scrape-{kind}", context, recipients)
    except Exception:
        alert.delete()
        raise
    return True


def alert_failed_run(run: ScrapeRun) -> bool:
    """Mail the curators that scraping `run.day` failed, with the error; once per day."""
    return send_alert(ScrapeAlert.Kind.FAILED, run.day, {"error": run.error}, run)


def is_weekday(day: date) -> bool:
    return day.weekday() < 5


def check_empty_weekday(now: datetime | None = None) -> bool:
    """Alert when today is a weekday, it is past SCRAPE_EMPTY_ALERT_HOUR and no paper is
    listed for today. Weekends are empty as a rule and never alert. True when mailed."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    if not is_weekday(today) or now.hour < settings.SCRAPE_EMPTY_ALERT_HOUR:
        return False
    if PaperListing.objects.filter(listed_on=today).exists():
        return False
    last_run = ScrapeRun.objects.filter(day=today).order_by("-started_at").first()
    return send_alert(ScrapeAlert.Kind.EMPTY, today, {"hour": settings.SCRAPE_EMPTY_ALERT_HOUR}, last_run)
