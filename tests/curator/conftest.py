from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User

from newsletter.models import Delivery, Edition
from tests.newsletter.personas import a_day_of_papers, alice, bob, released_edition

SECRET = "esp:s3cret-hook"


def curators_group() -> Group:
    """The data migrations' group; a transactional test before this one may have flushed it."""
    if not Group.objects.filter(name="Curators").exists():
        import_module("newsletter.migrations.0004_curators_group").create_group(django_apps, None)
        import_module("newsletter.migrations.0005_curators_train_topics").grant(django_apps, None)
    return Group.objects.get(name="Curators")


def make_curator(username: str = "cora", email: str = "cora@example.test") -> User:
    """A staff user whose only rights come from the Curators group."""
    user = User.objects.create_user(username, email, "pw", is_staff=True)
    user.groups.add(curators_group())
    return user


@pytest.fixture
def curator(db) -> User:
    return make_curator()


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def reader_client(client, db):
    client.force_login(User.objects.create_user("reader", "reader@example.test", "pw"))
    return client


@pytest.fixture
def sent_edition(db) -> Edition:
    """The 2026-03-04 edition, sent to alice and bob."""
    a_day_of_papers()
    edition = released_edition()
    for who, message_id in ((alice(), "pm-alice-1"), (bob(), "<mg-bob-1@mg.example.test>")):
        Delivery.objects.create(
            subscriber=who,
            edition=edition,
            status=Delivery.Status.SENT,
            esp_message_id=message_id,
            items=[],
        )
    return edition


@pytest.fixture
def webhook_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-signing-key"}
    return settings
