"""A site with data in it, and every page and email a reader can get, for the checkers (Nu HTML
checker, axe-core) and the escaping tests. Built on the digest personas; `text` lets a test put
hostile strings in every field that reaches a page or an email."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core import mail
from django.test import Client

from newsletter.models import Delivery, Edition
from newsletter.sending.context import view_url
from papers.alerts import send_alert
from papers.models import Paper
from subscribers import tokens
from subscribers.models import Status, Subscriber
from tests.newsletter.personas import DAY, paper, reader, released_edition, topic
from tests.newsletter.test_delivery import tick
from tests.subscribers.helpers import signup_data

IP = "198.51.100.7"


@dataclass
class Site:
    reader: Subscriber
    edition: Edition
    delivery: Delivery
    paper: Paper
    digest: mail.EmailMultiAlternatives


def build_site(text: str = "") -> Site:
    """A sent edition of three papers and its reader. `text` goes into the titles, abstracts,
    author names, topic names, the curator note and the reader's keywords and followed authors."""
    marked = f" {text}" if text else ""
    vision = topic("vision", "vision transformer, image segmentation")
    vision.name = f"Computer vision{marked}"
    vision.save()
    papers = [
        paper(
            "2603.04001",
            f"A Vision Transformer for Image Segmentation{marked}",
            212,
            abstract=f"We segment images with a vision transformer.{marked} Results are strong.",
            authors=[f"Ada Lovelace{marked}", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        ),
        paper(
            "2603.04002", f"Image Segmentation at Scale{marked}", 40, abstract=f"Segmenting images.{marked}"
        ),
        paper("2603.04003", "Scaling Laws for Language Models", 300),
    ]
    alice = reader(
        "alice@example.test",
        [vision],
        time_zone="Europe/Paris",
        delivery_hour=8,
        keywords=[f"segmentation{marked}"],
        followed_authors=[f"Grace Hopper{marked}"],
        include_trending=True,
    )
    edition = released_edition(at=datetime(2026, 3, 4, 20, tzinfo=UTC))
    edition.curator_note = f"A big day for vision.{marked}"
    edition.save(update_fields=["curator_note"])
    edition.picks.add(papers[1])
    mail.outbox.clear()
    tick(datetime(2026, 3, 5, 7, tzinfo=UTC))
    delivery = Delivery.objects.get(subscriber=alice, edition=edition)
    assert delivery.status == "sent", delivery.status
    edition.refresh_from_db()
    if edition.status != Edition.Status.SENT:
        edition.status = Edition.Status.SENT
        edition.save(update_fields=["status"])
    (digest,) = mail.outbox
    return Site(reader=alice, edition=edition, delivery=delivery, paper=papers[0], digest=digest)


def public_pages(client: Client, site: Site) -> dict[str, tuple[int, str, str]]:
    """Every page a reader can reach: name -> (status, path, HTML). Pages reached by a POST are
    captured from the POST's answer."""
    manage = tokens.make_token(tokens.MANAGE, site.reader)
    unsubscribe = tokens.make_token(tokens.UNSUBSCRIBE, site.reader)
    pending = Subscriber.objects.create(
        email="bob@example.test", status=Status.PENDING, confirm_nonce="n" * 32
    )
    get = {
        "home": "/",
        "check-inbox": "/subscribe/check-inbox/",
        "manage-request": "/manage/",
        "manage-sent": "/manage/sent/",
        "manage": f"/manage/{manage}/",
        "manage-saved": f"/manage/{manage}/?saved=1",
        "delete-confirm": f"/manage/{manage}/delete/",
        "unsubscribe-confirm": f"/unsubscribe/{unsubscribe}/",
        "archive": "/archive/",
        "archive-edition": f"/archive/{DAY.isoformat()}/",
        "view-in-browser": view_url(site.delivery).split("://", 1)[1].split("/", 1)[1],
        "view-unavailable": "/digest/not-a-token/",
        "bad-link": "/confirm/not-a-token/",
        "not-found": "/no-such-page/",
        "confirm-welcome": f"/confirm/{tokens.make_token(tokens.CONFIRM, pending)}/",
    }
    pages = {}
    for name, path in get.items():
        path = path if path.startswith("/") else "/" + path
        response = client.get(path, REMOTE_ADDR=IP)
        pages[name] = (response.status_code, path, response.content.decode())
    posts = {
        "signup-errors": ("/subscribe/", {**signup_data("not an address"), "email": "not an address"}),
        "manage-errors": (f"/manage/{manage}/", {"max_papers": "999", "frequency": "hourly"}),
        "unsubscribed": (f"/unsubscribe/{unsubscribe}/", {}),
    }
    for name, (path, data) in posts.items():
        response = client.post(path, data, REMOTE_ADDR=IP)
        pages[name] = (response.status_code, path, response.content.decode())
    deleted = client.post(f"/manage/{manage}/delete/", REMOTE_ADDR=IP)
    pages["deleted"] = (deleted.status_code, f"/manage/{manage}/delete/", deleted.content.decode())
    return pages


def send_every_email(client: Client, site: Site) -> None:
    """Send each kind of email but the digest (build_site sent it through the real delivery
    path): confirm, already subscribed, manage link and the curators' alerts. Needs Celery tasks
    inline (`send_now`), on-commit callbacks run (`django_capture_on_commit_callbacks`), a curator."""
    mail.outbox.clear()
    client.post("/subscribe/", signup_data("carol@example.test"), REMOTE_ADDR="192.0.2.10")
    client.post("/subscribe/", signup_data(site.reader.email), REMOTE_ADDR="192.0.2.11")
    client.post("/manage/", signup_data(site.reader.email), REMOTE_ADDR="192.0.2.12")
    send_alert("empty", date(2026, 3, 4), {"hour": 20})
    send_alert("failed", date(2026, 3, 3), {"error": "HTTP 503 from huggingface.co"})


def every_email(site: Site) -> dict[str, str]:
    """The HTML part of every email, by subject: the digest and what send_every_email sent."""
    emails = {site.digest.subject: site.digest.alternatives[0][0]}
    emails.update({m.subject: m.alternatives[0][0] for m in mail.outbox if m.alternatives})
    return emails
