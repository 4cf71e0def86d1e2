"""Signed links: the preference centre, unsubscribe pages, RFC 8058 one-click, and every way a
token can fail."""

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse

from subscribers import tokens
from subscribers.models import Frequency, Status, Subscriber, SuppressedAddress
from tests.subscribers.helpers import (
    links_in,
    make_paper,
    make_subscriber,
    make_topic,
    only_message,
    signup_data,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("send_now", "no_default_topics"),
]


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def manage_path(subscriber) -> str:
    return reverse("subscribers:manage", args=[tokens.make_token(tokens.MANAGE, subscriber)])


def unsubscribe_path(subscriber, name: str = "subscribers:unsubscribe") -> str:
    return reverse(name, args=[tokens.make_token(tokens.UNSUBSCRIBE, subscriber)])


def prefs(**overrides) -> dict:
    data = {
        "keywords": "",
        "excluded_keywords": "",
        "followed_authors": "",
        "frequency": "daily",
        "weekday": "0",
        "paused_until": "",
        "delivery_hour": "7",
        "time_zone": "UTC",
        "max_papers": "10",
        "min_upvotes": "0",
        "include_trending": "",
    }
    data.update(overrides)
    return data


# --- Preference centre ---------------------------------------------------------------------


def test_the_preference_centre_saves_every_choice(client):
    llms, video = make_topic("llms", "LLM"), make_topic("video", "video")
    alice = make_subscriber("alice@example.test", topics=[llms])
    url = manage_path(alice)
    response = client.post(
        url,
        prefs(
            topics=[video.pk],
            keywords="diffusion models, world model",
            excluded_keywords="survey",
            followed_authors="Yann LeCun",
            frequency="weekly",
            weekday="4",
            delivery_hour="18",
            time_zone="America/New_York",
            max_papers="5",
            min_upvotes="20",
            include_trending="on",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"{url}?saved=1"
    alice.refresh_from_db()
    assert list(alice.topics.all()) == [video]
    assert alice.keywords == ["diffusion models", "world model"]
    assert alice.excluded_keywords == ["survey"] and alice.followed_authors == ["Yann LeCun"]
    assert (alice.frequency, alice.weekday, alice.delivery_hour) == ("weekly", 4, 18)
    assert (alice.time_zone, alice.max_papers, alice.min_upvotes, alice.include_trending) == (
        "America/New_York",
        5,
        20,
        True,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Saved." in page and 'value="diffusion models, world model"' in page


def test_pausing_until_a_date_and_resuming_on_that_date(client):
    from subscribers.status import resume_due_pauses

    alice = make_subscriber("alice@example.test", frequency=Frequency.WEEKLY)
    client.post(manage_path(alice), prefs(frequency="paused", paused_until="2031-01-10", weekday="2"))
    alice.refresh_from_db()
    assert (alice.status, alice.frequency, alice.paused_until) == (Status.PAUSED, "paused", date(2031, 1, 10))
    assert resume_due_pauses(date(2031, 1, 9)) == 0
    assert resume_due_pauses(date(2031, 1, 10)) == 1
    alice.refresh_from_db()
    assert (alice.status, alice.frequency, alice.paused_until) == (Status.ACTIVE, "weekly", None)


def test_a_pause_date_in_the_past_is_refused(client):
    alice = make_subscriber("alice@example.test")
    response = client.post(manage_path(alice), prefs(frequency="paused", paused_until="2001-01-01"))
    assert response.status_code == 400
    assert "in the future" in response.content.decode()
    alice.refresh_from_db()
    assert alice.status == Status.ACTIVE


def test_a_line_break_in_a_preference_is_rejected_and_nothing_saved(client):
    alice = make_subscriber("alice@example.test")
    response = client.post(manage_path(alice), prefs(keywords="llm\r\nBcc: x@example.test"))
    assert response.status_code == 400
    assert "Line breaks are not allowed" in response.content.decode()
    alice.refresh_from_db()
    assert alice.keywords == []


def test_the_preview_lists_matching_recent_papers_with_reasons(client):
    llms = make_topic("llms", "large language model", "survey", name="LLMs")
    alice = make_subscriber(
        "alice@example.test", topics=[llms], followed_authors=["Ada Lovelace"], include_trending=False
    )
    alice.keywords = ["world model"]
    alice.save()
    day = date(2025, 3, 5)
    make_paper("2503.00001", "Large Language Models reason", upvotes=50, listed=day)
    make_paper("2503.00002", "A survey of large language models", upvotes=90, listed=day)
    make_paper("2503.00003", "World models for robots", upvotes=5, listed=day)
    make_paper("2503.00004", "Engines", upvotes=1, listed=day, authors=["Ada Lovelace"])
    make_paper("2503.00005", "Unrelated but popular", upvotes=99, listed=day)
    make_paper("2503.00006", "Large language models, last week", upvotes=99, listed=day - timedelta(days=1))
    page = client.get(manage_path(alice)).content.decode()
    preview = page[page.index("What you would have received") :]
    assert "Large Language Models reason" in preview and "LLMs" in preview
    assert "World models for robots" in preview and "your keywords: world model" in preview
    assert "Engines" in preview and "by Ada Lovelace" in preview
    assert "A survey of large language models" not in preview  # the topic's exclude term wins
    assert "last week" not in preview  # a daily reader's digest covers the latest day only
    assert "Unrelated but popular" not in preview
    assert preview.index("reason") < preview.index("World models")  # ranked by upvotes

    alice.include_trending = True
    alice.save()
    preview = client.get(manage_path(alice)).content.decode()
    assert "Unrelated but popular</a>" in preview and "▲ 99 · trending" in preview


def test_the_export_is_a_json_download_of_everything_stored(client):
    llms = make_topic("llms", "LLM")
    alice = make_subscriber("alice@example.test", topics=[llms], consent_ip="192.0.2.1")
    response = client.get(reverse("subscribers:export", args=[tokens.make_token(tokens.MANAGE, alice)]))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "alice@example.test" and data["consent_ip"] == "192.0.2.1"
    assert data["topics"] == [{"slug": "llms", "name": "Llms"}]
    assert "confirm_nonce" not in data


def test_deleting_erases_the_row_and_keeps_only_a_hash_that_no_link_request_gets_past(client):
    alice = make_subscriber("alice@example.test")
    path = reverse("subscribers:delete", args=[tokens.make_token(tokens.MANAGE, alice)])
    assert "Delete your data?" in client.get(path).content.decode()
    assert Subscriber.objects.exists()  # GET only asks
    assert "Your data is deleted" in client.post(path).content.decode()
    assert not Subscriber.objects.exists()
    suppressed = SuppressedAddress.objects.get()
    assert "alice" not in suppressed.address_hash and len(suppressed.address_hash) == 64
    client.post(reverse("subscribers:manage-request"), signup_data("alice@example.test"))
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_email_me_my_link_sends_a_working_manage_link_and_answers_alike(client):
    alice = make_subscriber("alice@example.test")
    answers = {
        client.post(reverse("subscribers:manage-request"), signup_data(e))["Location"]
        for e in ["alice@example.test", "nobody@example.test"]
    }
    assert answers == {reverse("subscribers:manage-sent")}
    message = only_message()
    assert message.subject == "Your link to your Paperboy preferences" and message.to == [alice.email]
    link = next(link for link in links_in(message) if "/manage/" in link)
    assert client.get(path_of(link)).status_code == 200


def test_email_me_my_link_sends_a_pending_reader_a_fresh_confirmation(client):
    make_subscriber("bob@example.test", Status.PENDING)
    client.post(reverse("subscribers:manage-request"), signup_data("bob@example.test"))
    assert only_message().subject == "Confirm your Paperboy subscription"


def test_an_unsubscribed_reader_can_resubscribe_from_the_preference_centre(client):
    carol = make_subscriber("carol@example.test", Status.UNSUBSCRIBED)
    token = tokens.make_token(tokens.MANAGE, carol)
    assert "Subscribe again" in client.get(reverse("subscribers:manage", args=[token])).content.decode()
    client.post(reverse("subscribers:resubscribe", args=[token]))
    carol.refresh_from_db()
    assert carol.status == Status.ACTIVE and carol.unsubscribed_at is None


# --- Unsubscribe ---------------------------------------------------------------------------


def test_get_on_the_unsubscribe_link_only_asks(client):
    alice = make_subscriber("alice@example.test")
    page = client.get(unsubscribe_path(alice))
    assert page.status_code == 200 and "<button" in page.content.decode()
    alice.refresh_from_db()
    assert alice.status == Status.ACTIVE


def test_post_on_the_unsubscribe_link_unsubscribes_without_a_csrf_token(client):
    client = type(client)(enforce_csrf_checks=True)
    alice = make_subscriber("alice@example.test")
    response = client.post(unsubscribe_path(alice))
    assert response.status_code == 200 and "You’re unsubscribed" in response.content.decode()  # noqa: RUF001
    alice.refresh_from_db()
    assert alice.status == Status.UNSUBSCRIBED and alice.unsubscribed_at is not None


@pytest.mark.parametrize("multipart", [False, True], ids=["form-urlencoded", "multipart"])
def test_rfc_8058_one_click_unsubscribes_at_once(client, multipart):
    client = type(client)(enforce_csrf_checks=True)
    alice = make_subscriber("alice@example.test")
    path = unsubscribe_path(alice, "subscribers:one-click")
    if multipart:
        response = client.post(path, {"List-Unsubscribe": "One-Click"})
    else:
        response = client.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    assert not response.cookies
    alice.refresh_from_db()
    assert alice.status == Status.UNSUBSCRIBED
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent


def test_one_click_without_the_rfc_body_changes_nothing(client):
    alice = make_subscriber("alice@example.test")
    path = unsubscribe_path(alice, "subscribers:one-click")
    assert client.post(path, {}).status_code == 400
    assert client.get(path).status_code == 405
    alice.refresh_from_db()
    assert alice.status == Status.ACTIVE


def test_list_unsubscribe_headers_point_at_the_one_click_endpoint(client, settings):
    alice = make_subscriber("alice@example.test")
    headers = tokens.list_unsubscribe_headers(alice)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(settings.SITE_URL) and url.endswith("/one-click/")
    client.post(path_of(url), {"List-Unsubscribe": "One-Click"})
    alice.refresh_from_db()
    assert alice.status == Status.UNSUBSCRIBED


# --- Token failures ------------------------------------------------------------------------

PAGES = {
    "confirm": (tokens.CONFIRM, "subscribers:confirm"),
    "manage": (tokens.MANAGE, "subscribers:manage"),
    "export": (tokens.MANAGE, "subscribers:export"),
    "delete": (tokens.MANAGE, "subscribers:delete"),
    "unsubscribe": (tokens.UNSUBSCRIBE, "subscribers:unsubscribe"),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_tampered_token_gets_a_friendly_page(client, page):
    purpose, name = PAGES[page]
    alice = make_subscriber("alice@example.test", Status.PENDING if page == "confirm" else Status.ACTIVE)
    token = tokens.make_token(purpose, alice)
    for bad in [token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "nonsense", token.replace(":", "", 1)]:
        response = client.get(reverse(name, args=[bad]))
        assert response.status_code == 400
        assert "This link doesn’t work" in response.content.decode()  # noqa: RUF001


@pytest.mark.parametrize("page", PAGES)
def test_a_token_for_another_purpose_is_refused(client, page):
    purpose, name = PAGES[page]
    alice = make_subscriber("alice@example.test", Status.PENDING)
    other = tokens.UNSUBSCRIBE if purpose is not tokens.UNSUBSCRIBE else tokens.MANAGE
    assert client.get(reverse(name, args=[tokens.make_token(other, alice)])).status_code == 400


@pytest.mark.parametrize("page", PAGES)
def test_an_expired_token_gets_a_friendly_page(client, page):
    purpose, name = PAGES[page]
    alice = make_subscriber("alice@example.test", Status.PENDING if page == "confirm" else Status.ACTIVE)
    with time_machine.travel("2030-01-01", tick=False):
        token = tokens.make_token(purpose, alice)
    with time_machine.travel(date(2030, 1, 1) + purpose.max_age + timedelta(days=1), tick=False):
        response = client.get(reverse(name, args=[token]))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_the_unsubscribe_link_lasts_at_least_60_days_and_the_manage_link_expires(client):
    alice = make_subscriber("alice@example.test")
    with time_machine.travel("2030-01-01", tick=False):
        unsubscribe = tokens.make_token(tokens.UNSUBSCRIBE, alice)
        manage = tokens.make_token(tokens.MANAGE, alice)
    with time_machine.travel("2030-03-05", tick=False):
        assert client.get(reverse("subscribers:manage", args=[manage])).status_code == 410
        assert client.post(reverse("subscribers:unsubscribe", args=[unsubscribe])).status_code == 200


def test_a_token_of_an_erased_subscriber_gets_a_friendly_page(client):
    alice = make_subscriber("alice@example.test")
    token = tokens.make_token(tokens.UNSUBSCRIBE, alice)
    alice.delete()
    assert client.get(reverse("subscribers:unsubscribe", args=[token])).status_code == 400
    assert (
        client.post(
            reverse("subscribers:one-click", args=[token]), {"List-Unsubscribe": "One-Click"}
        ).status_code
        == 400
    )


def test_a_validly_signed_but_malformed_payload_is_refused(client):
    for payload in [["x"], {"s": 5}, {"s": "not-a-uuid"}]:
        token = signing.dumps(payload, salt=tokens.MANAGE.salt)
        assert client.get(reverse("subscribers:manage", args=[token])).status_code == 400


def test_the_manage_page_is_never_cached_and_not_indexed(client):
    alice = make_subscriber("alice@example.test")
    response = client.get(manage_path(alice))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_signed_values_follow_the_secret_key(settings):
    from django.core import signing

    token = tokens.sign({"s": "abc"}, "paperboy.test")
    assert signing.loads(token, salt="paperboy.test") == {"s": "abc"}
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    rotated = tokens.sign({"s": "abc"}, "paperboy.test")
    assert rotated != token and signing.loads(rotated, salt="paperboy.test") == {"s": "abc"}
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="paperboy.test")
