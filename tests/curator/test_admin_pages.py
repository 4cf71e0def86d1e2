"""Every console page loads with data for a curator (rights from the Curators group only) and is
refused to anyone else."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from newsletter.models import Delivery, DeliveryEvent
from papers.models import ScrapeAlert, ScrapeRun
from subscribers.models import Subscriber, SuppressedAddress, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def console_data(sent_edition):
    delivery = Delivery.objects.filter(edition=sent_edition).first()
    DeliveryEvent.objects.create(
        esp="postmark",
        event_type="delivered",
        dedupe_key="k1",
        delivery=delivery,
        subscriber=delivery.subscriber,
    )
    run = ScrapeRun.objects.create(
        day=sent_edition.listed_on,
        url="https://huggingface.co/papers/date/2026-03-04",
        status="ok",
        started_at=timezone.now(),
        duration=timedelta(seconds=2),
        new=6,
    )
    ScrapeAlert.objects.create(kind="failed", day=sent_edition.listed_on, run=run)
    SuppressedAddress.objects.create(address_hash="a" * 64)
    return {"edition": sent_edition, "delivery": delivery, "run": run}


def console_urls(data) -> list[str]:
    paper = data["edition"].scores["papers"]
    paper_id = next(iter(paper))
    event = DeliveryEvent.objects.get()
    return [
        "/admin/",
        "/admin/dashboard/",
        "/admin/dashboard/?days=365",
        "/admin/papers/paper/",
        "/admin/papers/paper/?q=Lovelace",
        "/admin/papers/paper/?upvotes=100%2B&topic=video-terms",
        f"/admin/papers/paper/{paper_id}/change/",
        "/admin/papers/scraperun/",
        f"/admin/papers/scraperun/{data['run'].pk}/change/",
        "/admin/papers/scrapealert/",
        "/admin/subscribers/topic/",
        f"/admin/subscribers/topic/{Topic.objects.get(slug='video-terms').pk}/change/",
        "/admin/subscribers/topic/matches/?include=video",
        "/admin/subscribers/subscriber/",
        "/admin/subscribers/subscriber/?status__exact=active&tz=Europe%2FParis&frequency__exact=daily",
        f"/admin/subscribers/subscriber/{Subscriber.objects.first().pk}/change/",
        "/admin/subscribers/subscriber/import/",
        "/admin/subscribers/suppressedaddress/",
        "/admin/newsletter/edition/",
        f"/admin/newsletter/edition/{data['edition'].pk}/change/",
        f"/admin/newsletter/edition/{data['edition'].pk}/preview/",
        f"/admin/newsletter/edition/{data['edition'].pk}/preview/html/",
        "/admin/newsletter/delivery/",
        f"/admin/newsletter/delivery/{data['delivery'].pk}/change/",
        "/admin/newsletter/deliveryevent/",
        f"/admin/newsletter/deliveryevent/{event.pk}/change/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/django_celery_beat/crontabschedule/",
    ]


def test_every_console_page_loads_for_a_curator(curator_client, console_data):
    for url in console_urls(console_data):
        response = curator_client.get(url)
        assert response.status_code == 200, url


def test_every_console_page_is_refused_to_a_non_staff_user(reader_client, console_data):
    for url in console_urls(console_data):
        response = reader_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_every_console_page_is_refused_to_a_staff_user_outside_the_group(client, console_data):
    client.force_login(User.objects.create_user("intern", "i@example.test", "pw", is_staff=True))
    for url in console_urls(console_data)[1:]:
        assert client.get(url).status_code == 403, url


def test_curators_cannot_manage_users_or_groups(curator_client, curator):
    for url in ("/admin/auth/user/", "/admin/auth/group/", f"/admin/auth/user/{curator.pk}/change/"):
        assert curator_client.get(url).status_code == 403, url
    assert not any(p.startswith("auth.") for p in curator.get_all_permissions())


def test_the_index_links_to_the_dashboard(curator_client):
    assert b'href="/admin/dashboard/"' in curator_client.get("/admin/").content


def test_edition_statistics_count_each_outcome(curator_client, sent_edition):
    alice_row = Delivery.objects.get(subscriber__email="alice@example.test")
    bob_row = Delivery.objects.get(subscriber__email="bob@example.test")
    Delivery.objects.filter(pk=alice_row.pk).update(esp_status="delivered", sent_at=timezone.now())
    Delivery.objects.filter(pk=bob_row.pk).update(esp_status="bounced", sent_at=timezone.now())
    from tests.newsletter.personas import carol

    Delivery.objects.create(subscriber=carol(), edition=sent_edition, status=Delivery.Status.FAILED)
    page = curator_client.get(f"/admin/newsletter/edition/{sent_edition.pk}/change/").content.decode()
    assert "sent: 2 · delivered: 1 · bounced: 1 · complained: 0 · unsubscribed: 0 · failed: 1" in page
    listing = curator_client.get("/admin/newsletter/edition/").content.decode()
    assert 'class="field-stat_bounced">1<' in listing and 'class="field-stat_failed">1<' in listing


def test_a_reader_who_unsubscribed_after_the_digest_counts_for_that_edition(curator_client, sent_edition):
    from newsletter.console.stats import edition_stats

    now = timezone.now()
    Delivery.objects.filter(edition=sent_edition).update(sent_at=now - timedelta(hours=2))
    Subscriber.objects.filter(email="alice@example.test").update(status="unsubscribed", unsubscribed_at=now)
    assert edition_stats([sent_edition.pk])[sent_edition.pk]["unsubscribed"] == 1
