"""Hypothesis against every form and endpoint through Django's test client, the curator
console's included: whatever is posted, in whatever field, path or query string, the answer is
never a 500 (the test client re-raises any exception a view lets escape). Cases per test: the
`fuzz` profile in tests/conftest.py, `HYPOTHESIS_PROFILE=long` (make fuzz) for the long run."""

import json
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from papers.models import Paper
from subscribers import tokens
from tests.newsletter.personas import a_day_of_papers, alice, released_edition
from tests.security.admin_pages import OUR_APPS
from tests.subscribers.helpers import signup_data, started

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_now", "_generous_limits")]

# Anything a hostile client can type or send: control characters, NUL, surrogates excluded
# (they cannot be UTF-8 encoded on the wire), very long values, look-alike unicode.
hostile_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.sampled_from(
        [
            "",
            "\x00",
            "a@b.c\r\nBcc: victim@example.test",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "9" * 40,
            "-1",
            "1e309",
            "NaN",
            "Europe/../../etc/passwd",
            "\uff12\uff10"  # full-width digits,
            "\u202eevil",
            "x@" + "a" * 300 + ".test",
        ]
    ),
)
maybe_text = st.none() | hostile_text
token_text = st.one_of(hostile_text.filter(lambda t: "/" not in t), st.just("not-a-token"))


@pytest.fixture
def _generous_limits(settings):
    """Rate limits on: they are answers too. High enough that the fuzz reaches the forms."""
    settings.SUBSCRIBERS_IP_RATE = "1000000/h"
    settings.SUBSCRIBERS_MIN_FILL_SECONDS = 0
    cache.clear()


def form_data(base: dict, overrides: dict) -> dict:
    data = dict(base)
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def assert_not_500(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:500])


SIGNUP_FIELDS = [
    "email",
    "topics",
    "frequency",
    "weekday",
    "delivery_hour",
    "time_zone",
    "website",
    "started",
]
PREFERENCE_FIELDS = [
    "topics",
    "keywords",
    "excluded_keywords",
    "followed_authors",
    "frequency",
    "weekday",
    "paused_until",
    "delivery_hour",
    "time_zone",
    "max_papers",
    "min_upvotes",
    "include_trending",
]


@given(overrides=st.fixed_dictionaries({}, optional={f: maybe_text for f in SIGNUP_FIELDS}))
def test_the_signup_form_never_fails(client, overrides):
    data = form_data(signup_data("fuzz@example.test", started=started()), overrides)
    assert_not_500(client.post("/subscribe/", data, REMOTE_ADDR="203.0.113.50"))


@given(email=hostile_text, extra=st.dictionaries(hostile_text, hostile_text, max_size=3))
def test_the_manage_link_form_never_fails(client, email, extra):
    data = {**extra, "email": email, "website": "", "started": started()}
    assert_not_500(client.post("/manage/", data, REMOTE_ADDR="203.0.113.51"))


@pytest.fixture
def reader(db):
    return alice()


@given(overrides=st.fixed_dictionaries({}, optional={f: maybe_text for f in PREFERENCE_FIELDS}))
def test_the_preferences_form_never_fails(client, reader, overrides):
    token = tokens.make_token(tokens.MANAGE, reader)
    base = {"frequency": "daily", "weekday": "0", "delivery_hour": "7", "time_zone": "UTC"}
    base |= {"max_papers": "10", "min_upvotes": "0"}
    assert_not_500(client.post(f"/manage/{token}/", form_data(base, overrides)))


@given(paper=maybe_text, forget=maybe_text)
def test_taking_back_votes_never_fails(client, reader, paper, forget):
    token = tokens.make_token(tokens.MANAGE, reader)
    data = form_data({}, {"paper": paper, "forget": forget})
    assert_not_500(client.post(f"/manage/{token}/votes/", data))


SIGNED_PATHS = [
    "/confirm/{}/",
    "/manage/{}/",
    "/manage/{}/export/",
    "/manage/{}/delete/",
    "/manage/{}/resubscribe/",
    "/manage/{}/votes/",
    "/unsubscribe/{}/",
    "/unsubscribe/{}/one-click/",
    "/manage/{}/feed/",
    "/feed/{}/",
    "/feedback/{}/",
    "/digest/{}/",
    "/archive/{}/",
]


@given(
    path=st.sampled_from(SIGNED_PATHS),
    token=token_text,
    method=st.sampled_from(["get", "post"]),
    body=st.dictionaries(hostile_text, hostile_text, max_size=3),
)
def test_every_signed_link_and_archive_path_never_fails(client, path, token, method, body):
    url = path.format(quote(token, safe=""))
    response = getattr(client, method)(url, body if method == "post" else {})
    assert_not_500(response)


# Each signed path with a token of the right purpose: the views behind the token check.
VALID_PATHS = {
    tokens.MANAGE: ["/manage/{}/", "/manage/{}/export/", "/manage/{}/resubscribe/", "/manage/{}/votes/"],
    tokens.UNSUBSCRIBE: ["/unsubscribe/{}/", "/unsubscribe/{}/one-click/"],
    tokens.CONFIRM: ["/confirm/{}/"],
}


@given(
    purpose_path=st.sampled_from([(p, path) for p, paths in VALID_PATHS.items() for path in paths]),
    method=st.sampled_from(["get", "post"]),
    query=st.dictionaries(hostile_text, hostile_text, max_size=3),
    body=st.dictionaries(hostile_text, hostile_text, max_size=3),
)
def test_every_signed_link_with_a_valid_token_never_fails(client, reader, purpose_path, method, query, body):
    purpose, path = purpose_path
    url = path.format(tokens.make_token(purpose, reader))
    send = client.get if method == "get" else lambda u, q: client.post(u + "?" + urlencode(q), body)
    assert_not_500(send(url, query))


@given(
    path=st.sampled_from(
        ["/", "/archive/", "/archive/feed/", "/subscribe/check-inbox/", "/manage/sent/", "/healthz"]
    ),
    query=st.dictionaries(hostile_text, hostile_text, max_size=4),
)
def test_query_strings_never_break_a_page(client, path, query):
    assert_not_500(client.get(path, query))


@given(
    vote=maybe_text,
    query=st.dictionaries(st.sampled_from(["vote", "x"]), hostile_text, max_size=2),
)
def test_the_feedback_page_never_fails(client, reader, vote, query):
    paper = Paper.objects.first() or a_day_of_papers()["video"]
    url = tokens.feedback_urls(reader, paper.pk)[0].split("://", 1)[1].split("/", 1)[1]
    assert_not_500(client.get("/" + url, query))
    assert_not_500(client.post("/" + url.split("?")[0], form_data({}, {"vote": vote})))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
# Bodies shaped like the ESPs' events, with hostile values: where a parser could trip on a type.
esp_keys = st.sampled_from(["RecordType", "MessageID", "Recipient", "event", "email", "eventType", "Type"])
json_bodies = (
    json_values
    | st.dictionaries(esp_keys, json_values, max_size=4)
    | st.lists(st.dictionaries(esp_keys, json_values))
).map(lambda value: json.dumps(value).encode())

ESPS = ["postmark", "mailgun", "sendgrid", "amazon_ses", "brevo", "resend"]


@given(
    esp=st.sampled_from(ESPS),
    body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode) | json_bodies,
    auth=st.sampled_from(["", "Basic d2ViaG9vazpzZWNyZXQ=", "Basic Zm9vOmJhcg==", "Basic !!!", "Bearer x"]),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
)
def test_the_esp_webhooks_never_fail(client, settings, esp, body, auth, content_type):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "webhook:secret"}
    response = client.post(
        f"/esp/anymail/{esp}/tracking/", body, content_type=content_type, HTTP_AUTHORIZATION=auth
    )
    assert_not_500(response)


@given(
    name=hostile_text | st.sampled_from(["..", "../../etc/passwd", "%2e%2e", "x.eml", "a" * 300]),
    suffix=st.sampled_from(["", "html"]),
)
def test_the_dev_outbox_never_fails_nor_leaves_its_folder(client, name, suffix):
    # Entered and left per example: the `settings` fixture would stack one override per example.
    with override_settings(DEBUG=True):
        response = client.get(f"/dev/outbox/{quote(name, safe='')}/{suffix}")
    assert_not_500(response)
    assert response.status_code == 404  # the outbox is empty: no name, however built, finds a file


# --- The curator console, signed in as a superuser ---------------------------------------------
# The admin pages of our apps and our own admin views: whatever is in the query string or the
# posted form (our list filters, actions, the action form's edition), never a 500; the admin login
# takes any credentials without one either.
# Parameters our pages and Django's changelists read (search, ordering, paging, our filters,
# the date hierarchies), beside any name at all.
PARAMS = ["q", "o", "p", "e", "all", "days", "include", "exclude", "persona", "subscriber", "weekly"]
PARAMS += ["upvotes", "topic", "tz", "status__exact", "frequency__exact", "topics__id__exact"]
PARAMS += ["listings__listed_on__gte", "first_listed_on__year", "first_listed_on__month"]
PARAMS += ["listed_on__year", "created_at__day", "sent_at__month", "_changelist_filters"]
query_strings = st.dictionaries(st.sampled_from(PARAMS) | hostile_text, hostile_text, max_size=4)
ACTIONS = {
    "papers/paper": ["add_to_picks", "hide_from_editions", "show_in_editions"],
    "newsletter/edition": ["hold", "release"],
    "subscribers/subscriber": ["resend_confirmation", "suppress", "export_csv"],
}


@pytest.fixture
def console(client, db):
    """A day of papers, its edition and a reader; the client signed in as a superuser."""
    a_day_of_papers()
    alice()
    edition = released_edition()
    curator = get_user_model().objects.create_superuser("curator", "curator@example.test", "pw")
    client.force_login(curator)
    return edition


def console_pages(edition) -> list[str]:
    lists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in OUR_APPS
    ]
    ours = ["admin-dashboard", "admin:subscribers_topic_matches", "admin:subscribers_subscriber_import"]
    previews = ["admin:newsletter_edition_preview", "admin:newsletter_edition_preview_html"]
    return [*lists, *map(reverse, ours), *(reverse(name, args=[edition.pk]) for name in previews)]


@given(page=st.integers(min_value=0), query=query_strings)
def test_every_console_page_takes_any_query_string(client, console, page, query):
    pages = console_pages(console)
    assert_not_500(client.get(pages[page % len(pages)], query))


@given(
    where=st.sampled_from([(model, action) for model, actions in ACTIONS.items() for action in actions]),
    # Ids as the checkboxes send them, of any size, or anything else (config.admin.ModelAdmin).
    selected=st.lists(st.integers().map(str) | hostile_text, max_size=3),
    edition=st.none() | hostile_text,
)
def test_every_action_takes_any_selection(client, console, where, selected, edition):
    model, action = where
    data = {"action": action, "_selected_action": selected, "index": "0"}
    if edition is not None:
        data["edition"] = edition
    assert_not_500(client.post(f"/admin/{model}/", data))


@given(
    view=st.sampled_from(["test-send", "status"]),
    data=st.dictionaries(
        st.sampled_from(["persona", "subscriber", "weekly", "query", "do"]) | hostile_text,
        hostile_text,
        max_size=4,
    ),
)
def test_the_edition_buttons_take_any_form(client, console, view, data):
    assert_not_500(client.post(f"/admin/newsletter/edition/{console.pk}/{view}/", data))


@given(content=st.binary(max_size=600) | hostile_text.map(str.encode), note=hostile_text, topics=hostile_text)
def test_the_subscriber_import_takes_any_file(client, console, content, note, topics):
    upload = SimpleUploadedFile("readers.csv", content, content_type="text/csv")
    data = {"file": upload, "consent_note": note, "topics": topics}
    assert_not_500(client.post(reverse("admin:subscribers_subscriber_import"), data))


@given(
    data=st.dictionaries(
        st.sampled_from(["username", "password", "next"]) | hostile_text, hostile_text, max_size=4
    )
)
def test_the_admin_login_takes_any_credentials(client, settings, db, data):
    settings.ADMIN_LOGIN_RATE = "1000000/h"
    assert_not_500(client.post("/admin/login/", data, REMOTE_ADDR="203.0.113.60"))


def test_a_nul_in_a_query_string_is_refused_not_a_500(client, console):
    """Found by the 1,000-case pass: the admin's search handed a NUL to PostgreSQL."""
    assert client.get("/admin/papers/paper/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/", {"x\x00": "1"}).status_code == 400
    assert client.get("/admin/papers/paper/", {"q": "ab"}).status_code == 200
