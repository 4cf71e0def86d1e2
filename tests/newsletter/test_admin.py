import pytest
from django.contrib.auth.models import User

from newsletter.models import Delivery, Edition
from tests.newsletter.personas import a_day_of_papers, alice, released_edition

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client):
    client.force_login(User.objects.create_superuser("curator", "c@example.test", "pw"))
    return client


def test_hold_and_release_change_what_is_sent(curator_client):
    a_day_of_papers()
    edition = released_edition()
    url = "/admin/newsletter/edition/"
    curator_client.post(url, {"action": "hold", "_selected_action": [edition.pk]})
    edition.refresh_from_db()
    assert edition.status == Edition.Status.HELD
    curator_client.post(url, {"action": "release", "_selected_action": [edition.pk]})
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SCHEDULED and edition.released_at is not None


def test_edition_and_delivery_pages_load(curator_client):
    a_day_of_papers()
    edition = released_edition()
    delivery = Delivery.objects.create(subscriber=alice(), edition=edition)
    for url in (
        "/admin/newsletter/edition/",
        f"/admin/newsletter/edition/{edition.pk}/change/",
        "/admin/newsletter/delivery/",
        f"/admin/newsletter/delivery/{delivery.pk}/change/",
    ):
        assert curator_client.get(url).status_code == 200, url


def test_non_staff_users_are_refused(client):
    client.force_login(User.objects.create_user("reader", "r@example.test", "pw"))
    assert client.get("/admin/newsletter/edition/").status_code == 302
