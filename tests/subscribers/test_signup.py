"""The sign-up form and double opt-in, through Django's test client."""

import re
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from subscribers import services
from subscribers.models import Status, Subscriber
from subscribers.status import suppression_of
from tests.subscribers.helpers import (
    links_in,
    make_subscriber,
    make_topic,
    only_message,
    signup_data,
    started,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("send_now", "no_default_topics"),
]


def subscribe(client, email: str, **overrides):
    return client.post(
        reverse("subscribers:subscribe"), signup_data(email, **overrides), REMOTE_ADDR="203.0.113.9"
    )


def test_the_landing_page_shows_the_form_with_active_topics_only(client):
    make_topic("llms", "LLM", name="Large language models", description="Big models.")
    make_topic("old", "x", name="Retired topic", active=False)
    page = client.get("/").content.decode()
    assert 'name="email"' in page and 'type="checkbox"' in page
    assert "Large language models" in page and "Big models." in page
    assert "Retired topic" not in page
    assert "<script src=" in page and "cdn" not in page.lower()


def test_a_new_address_becomes_pending_and_gets_one_confirmation_email(client):
    llms = make_topic("llms", "LLM", name="Large language models")
    response = subscribe(client, "  Alice@Example.TEST ", topics=[llms.pk], HTTP_USER_AGENT="x")
    assert response.status_code == 302
    assert response["Location"] == reverse("subscribers:check-inbox")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()

    alice = Subscriber.objects.get()
    assert alice.email == "alice@example.test"
    assert alice.status == Status.PENDING
    assert list(alice.topics.all()) == [llms]
    assert alice.time_zone == "Europe/Paris"
    assert alice.consent_at is not None and alice.consent_ip == "203.0.113.9"
    assert alice.consent_version and "unsubscribe" in alice.consent_text

    message = only_message()
    assert message.to == ["alice@example.test"]
    assert message.subject == "Confirm your Paperboy subscription"
    assert "Large language models" in message.body
    html = message.alternatives[0][0]
    confirm_link = next(link for link in links_in(message) if "/confirm/" in link)
    assert confirm_link in html
    assert "alice" not in confirm_link.lower()  # the link names an opaque id, never the address


def test_following_the_confirm_link_activates_and_welcomes(client, settings):
    subscribe(client, "alice@example.test")
    link = next(link for link in links_in(only_message()) if "/confirm/" in link)
    page = client.get(link.removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    assert "subscribed</h1>" in page.content.decode()
    alice = Subscriber.objects.get()
    assert alice.status == Status.ACTIVE and alice.confirmed_at is not None
    assert "/manage/" in page.content.decode()


def test_a_confirm_link_works_only_once(client, settings):
    subscribe(client, "alice@example.test")
    link = next(link for link in links_in(only_message()) if "/confirm/" in link).removeprefix(
        settings.SITE_URL
    )
    client.get(link)
    replay = client.get(link)
    assert replay.status_code == 410
    assert "already been used" in replay.content.decode()


@contextmanager
def statements_run():
    """Each statement the block runs: (table, SQL, whether it ran in autocommit)."""
    seen: list[tuple[str, str, bool]] = []

    def record(execute, sql, params, many, context):
        table = re.search(r'(?:FROM|INTO) "(\w+)"', sql)  # none in SQLite's SAVEPOINT lines
        seen.append((table.group(1) if table else "", sql, connection.get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def test_a_new_address_costs_two_statements_outside_any_transaction(client, monkeypatch):
    # The sign-up's share of the web's CPU (make bench-web): a new address is one INSERT in
    # autocommit (no lookup, lock, BEGIN or COMMIT), and an empty topic choice needs no query.
    # (The email, sent at once here, is not counted.)
    monkeypatch.setattr(services, "_enqueue", lambda subscriber_id, kind: None)
    with statements_run() as statements:
        assert subscribe(client, "bob@example.test").status_code == 302
    tables = [table for table, _, _ in statements]
    assert tables == ["subscribers_suppressedaddress", "subscribers_subscriber"]
    assert statements[1][1].startswith("INSERT")
    assert [autocommit for _, _, autocommit in statements] == [True, True]
    assert not [sql for _, sql, _ in statements if "ORDER BY" in sql]
    assert Subscriber.objects.get().topics.count() == 0


def test_a_new_address_with_topics_stores_row_and_topics_in_one_transaction(client, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda subscriber_id, kind: None)
    topics = [make_topic("robotics", "robot"), make_topic("agents", "agent")]
    with statements_run() as statements:
        assert subscribe(client, "ann@example.test", topics=[t.pk for t in topics]).status_code == 302
    inserts = [(table, autocommit) for table, sql, autocommit in statements if sql.startswith("INSERT")]
    assert inserts == [("subscribers_subscriber", False), ("subscribers_subscriber_topics", False)]
    assert set(Subscriber.objects.get().topics.all()) == set(topics)


def test_a_known_address_inside_a_callers_transaction_leaves_it_usable():
    # The INSERT that finds the address taken runs in a savepoint there: the caller's
    # transaction goes on (a failed statement would abort it on PostgreSQL).
    pending = make_subscriber("pat@example.test", status=Status.PENDING)
    with transaction.atomic():
        outcome = services.sign_up(
            services.SignupChoices(email="Pat@Example.test", frequency="weekly"),
            services.Consent(ip=None, user_agent="test"),
        )
        assert Subscriber.objects.filter(pk=pending.pk).count() == 1
    assert outcome == "confirmation-sent"
    pending.refresh_from_db()
    assert pending.frequency == "weekly"
    assert Subscriber.objects.count() == 1


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(client):
    make_subscriber("active@example.test", Status.ACTIVE)
    make_subscriber("pending@example.test", Status.PENDING)
    pages = []
    for email in ["new@example.test", "pending@example.test", "active@example.test"]:
        response = subscribe(client, email)
        pages.append((response.status_code, response["Location"]))
    assert len(set(pages)) == 1


def test_an_active_address_gets_a_manage_link_and_keeps_its_choices(client):
    llms = make_topic("llms", "LLM")
    video = make_topic("video", "video")
    alice = make_subscriber("alice@example.test", Status.ACTIVE, topics=[llms], time_zone="Asia/Tokyo")
    subscribe(client, "ALICE@example.test", topics=[video.pk])
    message = only_message()
    assert message.subject == "You already subscribe to Paperboy"
    assert any("/manage/" in link for link in links_in(message))
    alice.refresh_from_db()
    assert alice.status == Status.ACTIVE
    assert list(alice.topics.all()) == [llms] and alice.time_zone == "Asia/Tokyo"
    assert Subscriber.objects.count() == 1


def test_signing_up_again_while_pending_resends_a_working_confirmation(client, settings):
    subscribe(client, "bob@example.test")
    subscribe(client, "bob@example.test")
    assert len(mail.outbox) == 2
    link = next(link for link in links_in(mail.outbox[1]) if "/confirm/" in link)
    assert client.get(link.removeprefix(settings.SITE_URL)).status_code == 200
    assert Subscriber.objects.get().status == Status.ACTIVE


def test_an_unsubscribed_reader_can_sign_up_again_with_a_new_confirmation(client, settings):
    make_subscriber("carol@example.test", Status.UNSUBSCRIBED)
    subscribe(client, "carol@example.test")
    link = next(link for link in links_in(only_message()) if "/confirm/" in link)
    client.get(link.removeprefix(settings.SITE_URL))
    assert Subscriber.objects.get().status == Status.ACTIVE


@pytest.mark.parametrize("status", [Status.BOUNCED, Status.COMPLAINED])
def test_bounced_and_complained_addresses_are_never_mailed(client, status):
    make_subscriber("dave@example.test", status)
    response = subscribe(client, "dave@example.test")
    assert response["Location"] == reverse("subscribers:check-inbox")
    assert mail.outbox == []
    assert Subscriber.objects.get().status == status


def test_at_most_three_confirmation_emails_per_address_per_day(client, settings):
    settings.SUBSCRIBERS_IP_RATE = "100/h"
    for _ in range(5):
        response = subscribe(client, "bob@example.test")
        assert response.status_code == 302
    assert len(mail.outbox) == 3


def test_a_flood_from_one_ip_is_refused_with_429(client, settings):
    settings.SUBSCRIBERS_IP_RATE = "3/h"
    codes = [subscribe(client, f"user{i}@example.test").status_code for i in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3
    # Another client is not affected.
    other = client.post(
        reverse("subscribers:subscribe"), signup_data("x@example.test"), REMOTE_ADDR="198.51.100.1"
    )
    assert other.status_code == 302


def test_the_ip_is_read_through_trusted_proxies_only(client, settings):
    settings.SUBSCRIBERS_IP_RATE = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    first = client.post(
        reverse("subscribers:subscribe"),
        signup_data("a@example.test"),
        HTTP_X_FORWARDED_FOR="spoof, 192.0.2.1",
    )
    second = client.post(
        reverse("subscribers:subscribe"),
        signup_data("b@example.test"),
        HTTP_X_FORWARDED_FOR="other, 192.0.2.1",
    )
    assert (first.status_code, second.status_code) == (302, 429)
    assert Subscriber.objects.get().consent_ip == "192.0.2.1"


def test_a_filled_honeypot_is_answered_alike_and_sends_nothing(client):
    response = subscribe(client, "bot@example.test", website="http://spam.example")
    assert response["Location"] == reverse("subscribers:check-inbox")
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_a_form_posted_too_fast_or_without_start_time_sends_nothing(client):
    subscribe(client, "fast@example.test", started=started(seconds_ago=0.2))
    subscribe(client, "forged@example.test", started="123")
    subscribe(client, "nostart@example.test", started="")
    assert mail.outbox == [] and not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "alice@example.test\nBcc: victim@example.test"),
        ("email", "alice@example.test\r\nSubject: hi"),
        ("time_zone", "Europe/Paris\nX: y"),
        ("frequency", "daily\r\n"),
    ],
)
def test_a_line_break_in_any_field_is_rejected(client, field, value):
    data = {**signup_data("alice@example.test"), field: value}
    response = client.post(reverse("subscribers:subscribe"), data)
    assert response.status_code == 400
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_an_invalid_form_shows_errors_and_keeps_the_topics(client):
    llms = make_topic("llms", "LLM")
    response = subscribe(client, "not-an-address", topics=[llms.pk], time_zone="Mars/Olympus")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in page
    assert "Enter a time zone name such as Europe/Berlin" in page
    assert f'value="{llms.pk}"' in page and "checked" in page
    assert mail.outbox == []


def test_get_on_the_form_target_goes_back_home(client):
    assert client.get(reverse("subscribers:subscribe"))["Location"] == "/"


def test_an_erased_reader_may_sign_up_again_and_confirming_is_fresh_consent(client, settings):
    services.erase(make_subscriber("alice@example.test"))
    assert suppression_of("alice@example.test") == "erased"
    subscribe(client, "alice@example.test")
    link = next(link for link in links_in(only_message()) if "/confirm/" in link)
    assert Subscriber.objects.get().status == Status.PENDING  # nothing is sent before the link
    client.get(link.removeprefix(settings.SITE_URL))
    alice = Subscriber.objects.get()
    assert alice.status == Status.ACTIVE and alice.consent_at is not None
    assert alice.consent_ip == "203.0.113.9"
    assert suppression_of("alice@example.test") is None  # the new consent replaced the erasure


@pytest.mark.parametrize("suppressed", [Status.BOUNCED, Status.COMPLAINED])
def test_an_erased_bounced_or_complained_address_stays_suppressed_whatever_is_posted(client, suppressed):
    services.erase(make_subscriber("alice@example.test", status=suppressed))
    subscribe(client, "alice@example.test")
    assert mail.outbox == [] and not Subscriber.objects.exists()
