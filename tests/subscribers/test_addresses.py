"""Which addresses Paperboy takes: ASCII mailbox names only, Unicode domains sent punycoded
(issue 15, item 6). The rule, then sign-up, "email me my link" and the CSV import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from subscribers.addresses import NON_ASCII_MAILBOX, NOT_AN_ADDRESS, address_problem
from subscribers.models import Status, Subscriber
from tests.subscribers.helpers import signup_data

pytestmark = pytest.mark.django_db

JORG = "jörg@example.com"
ANNA = "anna@bücher.example"
ANNA_PUNYCODED = "anna@xn--bcher-kva.example"


# --- the rule -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["alice@example.test", "a.b+tag@sub.example.org", ANNA, "yuki@例え.jp"])
def test_ascii_mailboxes_are_sendable_whatever_the_domain(address):
    assert address_problem(address) is None


@pytest.mark.parametrize("address", [JORG, "JÖRG@EXAMPLE.COM", '"jörg"@example.com', "jörg@bücher.example"])
def test_a_mailbox_name_outside_ascii_is_refused_with_its_own_reason(address):
    assert address_problem(address) == NON_ASCII_MAILBOX


@pytest.mark.parametrize(
    "address",
    ["", "jörg", "not-an-address", "@example.com", "alice@", "alice@@example.com", "a b@example.com",
     # Passes Django's validator, but the IDNA codec cannot write it: sending would raise.
     "alice@" + "ü" * 63 + ".example"],
)  # fmt: skip
def test_anything_else_that_cannot_be_sent_is_not_an_address(address):
    assert address_problem(address) == NOT_AN_ADDRESS


def test_the_reason_says_what_is_wrong_and_why():
    assert "before the @" in NON_ASCII_MAILBOX and "non-ASCII" in NON_ASCII_MAILBOX
    assert "SMTPUTF8" in NON_ASCII_MAILBOX


# --- the public forms ---------------------------------------------------------------------------------
def post_signup(client, email: str):
    return client.post(reverse("subscribers:subscribe"), signup_data(email), REMOTE_ADDR="203.0.113.9")


def test_sign_up_refuses_jorg_and_says_why(client, smtp_server):
    response = post_signup(client, JORG)
    page = response.content.decode()
    assert response.status_code == 400
    assert "The part before the @ has non-ASCII characters" in page and "SMTPUTF8" in page
    assert "Enter a valid email address." not in page  # the one clear reason, not the generic one
    assert not Subscriber.objects.exists() and smtp_server.messages == []


def test_sign_up_takes_a_unicode_domain_and_mails_it_punycoded(
    client, smtp_server, send_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signup(client, ANNA)
    assert response["Location"] == reverse("subscribers:check-inbox")
    assert Subscriber.objects.get().email == ANNA
    [confirmation] = smtp_server.to(ANNA_PUNYCODED)
    assert confirmation["Subject"] == "Confirm your Paperboy subscription"


def test_email_me_my_link_refuses_jorg_and_says_why(client):
    response = client.post(reverse("subscribers:manage-request"), signup_data(JORG))
    assert response.status_code == 400
    assert "The part before the @ has non-ASCII characters" in response.content.decode()


# --- the CSV import -----------------------------------------------------------------------------------
def test_the_import_skips_jorg_with_the_reason_and_invites_anna(
    admin_client, smtp_server, send_now, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("readers.csv", f"email\n{JORG}\n{ANNA}\n".encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:subscribers_subscriber_import"),
            {"file": upload, "consent_note": "Signed up on paper at the ML meetup, 2026-03-01."},
        )
    assert response.context["result"].skipped == [(2, JORG, NON_ASCII_MAILBOX)]
    page = response.content.decode()
    assert f"<td>2</td><td>{JORG}</td><td>{NON_ASCII_MAILBOX}</td>" in page
    assert not Subscriber.objects.filter(email=JORG).exists()
    assert Subscriber.objects.get().status == Status.PENDING
    assert len(smtp_server.to(ANNA_PUNYCODED)) == 1 and len(smtp_server.messages) == 1
