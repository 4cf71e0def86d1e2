"""A line break typed into any public form, or carried by scraped text, never becomes a header."""

import pytest
from django.core import mail

from config.emails import HeaderInjectionError, build_email
from subscribers import tokens
from tests.newsletter.personas import alice
from tests.security.site import build_site
from tests.subscribers.helpers import signup_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_now")]

INJECTIONS = ["a@example.test\r\nBcc: victim@example.test", "a@example.test\nSubject: hi", "x\rTo: y"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_the_manage_link_form_refuses_a_line_break(client, value):
    response = client.post(
        "/manage/", {**signup_data("a@example.test"), "email": value}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 400
    assert mail.outbox == []


@pytest.mark.parametrize("field", ["keywords", "excluded_keywords", "followed_authors", "time_zone"])
def test_the_preferences_form_refuses_a_line_break_in_any_field(client, field):
    reader = alice()
    data = {"frequency": "daily", "weekday": "0", "delivery_hour": "7", "time_zone": "UTC"}
    data |= {"max_papers": "10", "min_upvotes": "0", field: "robots\r\nBcc: victim@example.test"}
    response = client.post(f"/manage/{tokens.make_token(tokens.MANAGE, reader)}/", data)
    assert response.status_code == 400
    reader.refresh_from_db()
    assert "Bcc" not in str(reader.keywords + reader.excluded_keywords + reader.followed_authors)


def test_a_scraped_title_with_line_breaks_stays_on_the_subject_line(db):
    site = build_site("\r\nBcc: victim@example.test\r\n")
    raw = site.digest.message().as_bytes().decode()
    headers = raw.split("\n\n", 1)[0]
    assert "\nBcc:" not in headers and "victim@example.test" not in site.digest.recipients()
    assert "Bcc: victim@example.test" in site.digest.subject  # on the subject line, as text
    assert "\n" not in site.digest.subject and "\r" not in site.digest.subject


def test_the_email_builder_refuses_a_header_with_a_line_break():
    with pytest.raises(HeaderInjectionError):
        build_email("confirm", {}, ["a@example.test"], headers={"X-Note": "ok\r\nBcc: victim@example.test"})
