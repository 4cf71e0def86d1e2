from email import message_from_bytes

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from newsletter.sending.outbox import list_outbox

OUTBOX = "newsletter.sending.outbox.OutboxEmailBackend"


def send_sample(to: str = "alice@example.test") -> None:
    message = EmailMultiAlternatives(
        subject="Confirm your subscription",
        body="Open http://127.0.0.1:8000/confirm/abc to confirm.",
        to=[to],
        connection=get_connection(OUTBOX),
    )
    message.attach_alternative('<p><a href="http://127.0.0.1:8000/confirm/abc">Confirm</a></p>', "text/html")
    message.send()


def test_it_writes_each_message_as_an_eml_file(settings):
    send_sample("alice@example.test")
    send_sample("bob@example.test")
    files = sorted(settings.OUTBOX_DIR.glob("*.eml"))
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["Subject"] == "Confirm your subscription"
    assert parsed.get_content_type() == "multipart/alternative"


def test_it_lists_the_newest_first(settings):
    send_sample("first@example.test")
    send_sample("second@example.test")
    assert [entry.to for entry in list_outbox()] == ["second@example.test", "first@example.test"]


@pytest.mark.django_db
def test_the_outbox_pages_show_the_message_and_its_links_when_debug_is_on(client, settings):
    settings.DEBUG = True
    send_sample()
    entry = list_outbox()[0]
    listing = client.get("/dev/outbox/")
    assert "Confirm your subscription" in listing.text
    detail = client.get(f"/dev/outbox/{entry.name}/")
    assert '<a href="http://127.0.0.1:8000/confirm/abc"' in detail.text
    html = client.get(f"/dev/outbox/{entry.name}/html")
    assert html["Content-Security-Policy"].startswith("sandbox")
    assert "Confirm</a>" in html.text


@pytest.mark.django_db
def test_the_outbox_is_hidden_when_debug_is_off(client, settings):
    settings.DEBUG = False
    send_sample()
    assert client.get("/dev/outbox/").status_code == 404
    assert client.get(f"/dev/outbox/{list_outbox()[0].name}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "nope.eml", "20260101T000000000000-zzzzzzzz.eml"])
def test_the_outbox_refuses_names_that_are_not_messages(client, settings, name):
    settings.DEBUG = True
    assert client.get(f"/dev/outbox/{name}/").status_code == 404
