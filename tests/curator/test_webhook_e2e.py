"""A webhook request only records the event; a real Celery worker applies it."""

import json

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from newsletter.models import Delivery, DeliveryEvent, EspStatus
from subscribers.models import Status, Subscriber
from tests.curator.test_webhooks import POSTMARK, auth, postmark_bounce
from tests.services import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_posted_bounce(client, webhook_settings, sent_edition):
    delivery = Delivery.objects.get(subscriber__email="alice@example.test")
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        response = client.post(
            POSTMARK, json.dumps(postmark_bounce(delivery)), content_type="application/json", **auth()
        )
        assert response.status_code == 200
        assert wait_for(lambda: DeliveryEvent.objects.filter(processed_at__isnull=False).exists())
    assert Subscriber.objects.get(pk=delivery.subscriber_id).status == Status.BOUNCED
    assert Delivery.objects.get(pk=delivery.pk).esp_status == EspStatus.BOUNCED
