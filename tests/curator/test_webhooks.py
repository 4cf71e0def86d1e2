"""ESP webhooks (Postmark and Mailgun payloads through Anymail's views) update the ledger once."""

import base64
import hashlib
import hmac
import json
from datetime import date

import pytest
from django.db import transaction
from django.test import override_settings

from newsletter.models import Delivery, DeliveryEvent, EspStatus
from newsletter.tracking.events import apply_event
from subscribers.models import Status, Subscriber
from tests.curator.conftest import SECRET
from tests.newsletter.personas import a_day_of_papers, released_edition

pytestmark = pytest.mark.django_db

POSTMARK = "/esp/anymail/postmark/tracking/"
MAILGUN = "/esp/anymail/mailgun/tracking/"


def auth(secret: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def postmark_bounce(delivery: Delivery, kind: str = "HardBounce", bounce_id: int = 4323372036) -> dict:
    # The shape of Postmark's bounce webhook (postmarkapp.com/developer/webhooks/bounce-webhook).
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "digest",
        "MessageID": delivery.esp_message_id,
        "Metadata": {"delivery_id": str(delivery.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": delivery.subscriber.email,
        "From": "paperboy@example.test",
        "BouncedAt": "2026-03-05T07:00:04Z",
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "6 papers today",
    }


def postmark_delivery(delivery: Delivery, at: str = "2026-03-05T07:00:02Z") -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": delivery.esp_message_id,
        "Recipient": delivery.subscriber.email,
        "Tag": "digest",
        "DeliveredAt": at,
        "Details": "Test delivery webhook details",
        "Metadata": {"delivery_id": str(delivery.pk)},
    }


def postmark_complaint(delivery: Delivery) -> dict:
    return {
        **postmark_bounce(delivery, bounce_id=4323372099),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
    }


def mailgun_event(delivery: Delivery, event: str, token: str, severity: str = "permanent") -> dict:
    # Mailgun's JSON webhook: a signature block (HMAC-SHA256 of timestamp+token) and event-data.
    timestamp = "1772694004"
    signature = hmac.new(b"mg-signing-key", f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": f"ev-{token[:8]}",
        "timestamp": 1772694004.123,
        "recipient": delivery.subscriber.email,
        "tags": ["digest"],
        "user-variables": {"delivery_id": str(delivery.pk)},
        "message": {"headers": {"message-id": delivery.esp_message_id.strip("<>")}},
        "delivery-status": {"code": 550 if severity == "permanent" else 452, "message": "mailbox full"},
    }
    if event == "failed":
        data["severity"], data["reason"] = severity, "bounce" if severity == "permanent" else "generic"
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}


def post(client, url: str, payload: dict, secret: str = SECRET):
    return client.post(url, json.dumps(payload), content_type="application/json", **auth(secret))


@pytest.fixture
def apply_on_commit(django_capture_on_commit_callbacks):
    """Run what the webhook enqueues after commit, as the worker would."""

    def run(send):
        with django_capture_on_commit_callbacks(execute=True):
            return send()

    return run


@pytest.fixture(autouse=True)
def eager_tasks(send_now):
    """The webhook's on-commit task runs inline; test_webhook_e2e.py uses a real worker."""


def test_a_postmark_hard_bounce_suppresses_the_reader_and_marks_the_delivery(
    client, webhook_settings, sent_edition, apply_on_commit
):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    response = apply_on_commit(lambda: post(client, POSTMARK, postmark_bounce(delivery)))
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.esp_status == EspStatus.BOUNCED
    assert delivery.subscriber.status == Status.BOUNCED
    event = DeliveryEvent.objects.get()
    assert (event.esp, event.event_type, event.delivery, event.outcome) == (
        "postmark", "bounced", delivery, "suppressed: hard bounce"
    )  # fmt: skip


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "spell",
    [
        lambda pk: str(pk).translate(ARABIC_INDIC),  # int() reads these digits: bob's row
        lambda pk: "9" * 30,  # past the id column
        lambda pk: f"{pk}a",
    ],
)
def test_a_delivery_id_that_is_not_ours_falls_back_to_the_message_id(
    client, webhook_settings, sent_edition, apply_on_commit, spell
):
    """The metadata names bob's delivery in another script's digits (or names none): the event
    is matched by its message id, to alice's delivery, and bob's row is left alone."""
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    bobs = Delivery.objects.get(subscriber__email="bob@example.test")
    payload = {**postmark_delivery(delivery), "Metadata": {"delivery_id": spell(bobs.pk)}}
    assert apply_on_commit(lambda: post(client, POSTMARK, payload)).status_code == 200
    delivery.refresh_from_db()
    bobs.refresh_from_db()
    assert (delivery.esp_status, bobs.esp_status) == (EspStatus.DELIVERED, "")
    assert DeliveryEvent.objects.get().delivery == delivery


def test_the_same_payload_twice_changes_nothing_more(client, webhook_settings, sent_edition, apply_on_commit):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    apply_on_commit(lambda: post(client, POSTMARK, postmark_delivery(delivery)))
    apply_on_commit(lambda: post(client, POSTMARK, postmark_complaint(delivery)))
    before = list(DeliveryEvent.objects.values_list("pk", "processed_at", "outcome"))
    Subscriber.objects.filter(pk=delivery.subscriber_id).update(status=Status.ACTIVE)  # a curator's undo

    for payload in (postmark_delivery(delivery), postmark_complaint(delivery)):
        assert apply_on_commit(lambda p=payload: post(client, POSTMARK, p)).status_code == 200

    assert list(DeliveryEvent.objects.values_list("pk", "processed_at", "outcome")) == before
    delivery.refresh_from_db()
    assert delivery.esp_status == EspStatus.COMPLAINED
    # The resent complaint did not suppress again what the curator lifted.
    assert delivery.subscriber.status == Status.ACTIVE


def test_a_late_delivered_event_does_not_hide_a_complaint(
    client, webhook_settings, sent_edition, apply_on_commit
):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    apply_on_commit(lambda: post(client, POSTMARK, postmark_complaint(delivery)))
    apply_on_commit(lambda: post(client, POSTMARK, postmark_delivery(delivery)))
    delivery.refresh_from_db()
    assert delivery.esp_status == EspStatus.COMPLAINED
    assert delivery.subscriber.status == Status.COMPLAINED


def test_mailgun_events_find_the_delivery_and_count_soft_bounces(
    client, webhook_settings, sent_edition, apply_on_commit
):
    webhook_settings.ESP_SOFT_BOUNCE_LIMIT = 2
    delivery = Delivery.objects.get(subscriber__email="bob@example.test")
    apply_on_commit(lambda: post(client, MAILGUN, mailgun_event(delivery, "delivered", "tok-delivered-0001")))
    delivery.refresh_from_db()
    assert delivery.esp_status == EspStatus.DELIVERED

    first = mailgun_event(delivery, "failed", "tok-soft-000000001", severity="temporary")
    apply_on_commit(lambda: post(client, MAILGUN, first))
    apply_on_commit(lambda: post(client, MAILGUN, first))  # resent by Mailgun: still one
    assert Subscriber.objects.get(pk=delivery.subscriber_id).status == Status.ACTIVE
    assert DeliveryEvent.objects.get(esp_event_id="tok-soft-000000001").outcome == "soft bounce 1 of 2"

    second = mailgun_event(delivery, "failed", "tok-soft-000000002", severity="temporary")
    apply_on_commit(lambda: post(client, MAILGUN, second))
    assert Subscriber.objects.get(pk=delivery.subscriber_id).status == Status.BOUNCED
    assert DeliveryEvent.objects.filter(esp="mailgun").count() == 3


def test_a_mailgun_unsubscribe_unsubscribes_and_cancels_pending_digests(
    client, webhook_settings, sent_edition, apply_on_commit
):
    delivery = Delivery.objects.get(subscriber__email="bob@example.test")
    a_day_of_papers(date(2026, 3, 5))
    pending = Delivery.objects.create(
        subscriber=delivery.subscriber, edition=released_edition(date(2026, 3, 5))
    )
    apply_on_commit(lambda: post(client, MAILGUN, mailgun_event(delivery, "unsubscribed", "tok-unsub-00001")))
    subscriber = Subscriber.objects.get(pk=delivery.subscriber_id)
    assert subscriber.status == Status.UNSUBSCRIBED and subscriber.unsubscribed_at is not None
    pending.refresh_from_db()
    assert pending.status == Delivery.Status.FAILED and "suppressed" in pending.error


def test_an_event_found_only_by_message_id_is_applied(
    client, webhook_settings, sent_edition, apply_on_commit
):
    delivery = Delivery.objects.get(subscriber__email="bob@example.test")
    payload = mailgun_event(delivery, "delivered", "tok-by-message-id")
    del payload["event-data"]["user-variables"]
    apply_on_commit(lambda: post(client, MAILGUN, payload))
    assert DeliveryEvent.objects.get().delivery == delivery


@pytest.mark.parametrize("secret", ["esp:wrong", "other:s3cret-hook"])
def test_a_bad_secret_is_refused_and_records_nothing(client, webhook_settings, sent_edition, secret):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    assert post(client, POSTMARK, postmark_bounce(delivery), secret=secret).status_code in (401, 403)
    mailgun = mailgun_event(delivery, "delivered", "tok-bad-secret")
    assert post(client, MAILGUN, mailgun, secret=secret).status_code in (401, 403)
    assert not DeliveryEvent.objects.exists()


def test_a_bad_mailgun_signature_is_refused(client, webhook_settings, sent_edition):
    delivery = Delivery.objects.get(subscriber__email="bob@example.test")
    payload = mailgun_event(delivery, "delivered", "tok-forged")
    payload["signature"]["signature"] = "0" * 64
    assert post(client, MAILGUN, payload).status_code in (400, 401, 403)
    assert not DeliveryEvent.objects.exists()


@override_settings(ANYMAIL={"WEBHOOK_SECRET": ""})
def test_webhooks_are_refused_without_a_configured_secret(client, sent_edition):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    response = client.post(POSTMARK, json.dumps(postmark_bounce(delivery)), content_type="application/json")
    assert response.status_code == 403
    assert not DeliveryEvent.objects.exists()


def test_the_request_only_records_and_a_worker_applies(client, webhook_settings, sent_edition):
    """Without running the on-commit task, nothing but the event row changes."""
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    with transaction.atomic():
        assert post(client, POSTMARK, postmark_bounce(delivery)).status_code == 200
    event = DeliveryEvent.objects.get()
    assert event.processed_at is None
    assert Subscriber.objects.get(pk=delivery.subscriber_id).status == Status.ACTIVE
    assert apply_event(event.pk) == "suppressed: hard bounce"
    assert apply_event(event.pk) == "already applied"


def test_events_whose_task_was_lost_are_applied_by_the_sweep(client, webhook_settings, sent_edition):
    from datetime import timedelta

    from django.utils import timezone

    from newsletter.tasks import apply_lost_delivery_events_task

    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    with transaction.atomic():  # the on-commit task is never run: as if the broker was down
        post(client, POSTMARK, postmark_bounce(delivery))
    apply_lost_delivery_events_task()
    assert DeliveryEvent.objects.get().processed_at is None  # too recent: its task may still come
    DeliveryEvent.objects.update(received_at=timezone.now() - timedelta(minutes=11))
    apply_lost_delivery_events_task()
    assert DeliveryEvent.objects.get().outcome == "suppressed: hard bounce"
