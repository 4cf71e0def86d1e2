"""Abuse of the public forms: a flood for one address, a flood from one client, and probing
whether an address is subscribed."""

import pytest
import time_machine
from django.core import mail

from subscribers.models import Status
from tests.subscribers.helpers import make_subscriber, signup_data

# Transactional, as in production: each sign-up commits and its email task runs after commit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("send_now")]


def post(client, path: str, email: str, ip: str):
    return client.post(path, signup_data(email), REMOTE_ADDR=ip)


@time_machine.travel("2026-03-04 10:00:00Z", tick=True)
def test_a_thousand_signups_for_one_address_in_a_minute_send_at_most_three_emails(client, settings):
    # From a thousand different addresses, so that only the per-address quota can hold.
    codes = {
        post(client, "/subscribe/", "victim@example.test", f"10.0.{i // 250}.{i % 250}").status_code
        for i in range(1000)
    }
    assert codes == {302}
    confirmations = [m for m in mail.outbox if m.to == ["victim@example.test"]]
    assert len(mail.outbox) == len(confirmations) == 3


def test_the_per_ip_limit_holds_whatever_the_address(client, settings):
    settings.SUBSCRIBERS_IP_RATE = "20/h"
    codes = [
        post(client, "/subscribe/", f"user{i}@example.test", "203.0.113.7").status_code for i in range(200)
    ]
    manage = [
        post(client, "/manage/", f"stranger{i}@example.test", "203.0.113.8").status_code for i in range(50)
    ]
    assert codes[:20] == [302] * 20 and set(codes[20:]) == {429}
    assert manage[:20] == [302] * 20 and set(manage[20:]) == {429}
    assert len(mail.outbox) == 20  # the confirmations; the manage-link requests named strangers
    assert post(client, "/subscribe/", "late@example.test", "198.51.100.99").status_code == 302


def answer(client, path: str, email: str, ip: str) -> tuple:
    response = post(client, path, email, ip)
    page = client.get(response["Location"]) if response.status_code == 302 else response
    return response.status_code, response.get("Location"), page.content.decode().replace(email, "")


@pytest.mark.parametrize("path", ["/subscribe/", "/manage/"])
def test_the_answers_say_nothing_about_whether_an_address_exists(client, path):
    make_subscriber("active@example.test", Status.ACTIVE)
    make_subscriber("pending@example.test", Status.PENDING)
    make_subscriber("gone@example.test", Status.UNSUBSCRIBED)
    make_subscriber("bounced@example.test", Status.BOUNCED)
    emails = ["nobody@example.test", "active@example.test", "pending@example.test", "gone@example.test"]
    emails.append("bounced@example.test")
    answers = {answer(client, path, email, f"192.0.2.{i}") for i, email in enumerate(emails)}
    assert len(answers) == 1, answers


def test_an_address_over_its_quota_is_answered_like_any_other(client):
    for i in range(5):
        post(client, "/subscribe/", "busy@example.test", f"192.0.2.{i}")
    assert answer(client, "/subscribe/", "busy@example.test", "192.0.2.50") == answer(
        client, "/subscribe/", "fresh@example.test", "192.0.2.51"
    )
