"""Edition previews as a reader or persona, test sends to a real SMTP server, hold / release."""

import re

import pytest

from newsletter.models import Delivery, Edition, SentPaper
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def preview_url(edition: Edition, query: str = "") -> str:
    return f"/admin/newsletter/edition/{edition.pk}/preview/?{query}"


def test_a_preview_as_a_subscriber_shows_their_digest_in_html_and_text(curator_client, sent_edition):
    page = curator_client.get(preview_url(sent_edition, "subscriber=alice@example.test")).content.decode()
    # The subject counts alice's picks (how many the classifier puts in Video is its business)
    # and names the top one.
    assert re.search(
        r"Subject:</strong> \d papers? today: Text-to-Video Generation with Diffusion Models", page
    )
    # The text part: the topic, and the paper's own words that weighed most for it.
    assert re.search(r"Why: matches: Video \([^)]*\bvideo\b[^)]*\)", page)
    assert "Embodied Robot Learning" not in page  # bob's topic, not alice's
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    html = curator_client.get(
        f"/admin/newsletter/edition/{sent_edition.pk}/preview/html/?subscriber=alice@example.test"
    )
    assert "Text-to-Video Generation" in html.content.decode()
    assert html["Content-Security-Policy"].startswith("sandbox")


def test_a_preview_as_a_persona_ranks_for_that_persona(curator_client, sent_edition):
    robots = curator_client.get(preview_url(sent_edition, "persona=topic:robotics-terms")).content.decode()
    assert "Embodied Robot Learning at Scale" in robots
    assert "Scaling Laws for Language Models" not in robots  # no topic match, no trending asked
    everything = curator_client.get(preview_url(sent_edition, "persona=all-topics")).content.decode()
    assert "Scaling Laws for Language Models" in everything  # trending
    weekly = curator_client.get(preview_url(sent_edition, "persona=all-topics&weekly=1")).content.decode()
    assert "this week" in weekly


def test_previews_write_nothing(curator_client, sent_edition):
    reader = Subscriber.objects.get(email="alice@example.test")
    before = (Subscriber.objects.count(), Delivery.objects.count(), SentPaper.objects.count())
    curator_client.get(preview_url(sent_edition, "subscriber=alice@example.test"))
    curator_client.get(preview_url(sent_edition, "persona=all-topics"))
    assert (Subscriber.objects.count(), Delivery.objects.count(), SentPaper.objects.count()) == before
    assert Subscriber.objects.get(pk=reader.pk).public_id == reader.public_id


def test_an_unknown_subscriber_or_persona_is_a_clear_error(curator_client, sent_edition):
    assert (
        "No subscriber &#x27;nobody@example.test&#x27;."
        in curator_client.get(preview_url(sent_edition, "subscriber=nobody@example.test")).content.decode()
    )
    assert "No persona" in curator_client.get(preview_url(sent_edition, "persona=ghost")).content.decode()


def test_a_reader_who_would_get_nothing_is_said_so(curator_client, sent_edition):
    from tests.newsletter.personas import reader, topic

    reader("dora@example.test", [topic("astro", "exoplanet")])
    page = curator_client.get(preview_url(sent_edition, "subscriber=dora@example.test")).content.decode()
    assert "would get no email from this edition" in page


def test_send_a_test_to_me_arrives_at_the_smtp_server_and_touches_no_reader(
    curator_client, curator, sent_edition, smtp_server
):
    before = (Delivery.objects.count(), SentPaper.objects.count(), Subscriber.objects.count())
    response = curator_client.post(
        f"/admin/newsletter/edition/{sent_edition.pk}/test-send/",
        {
            "subscriber": "alice@example.test",
            "persona": "all-topics",
            "query": "subscriber=alice%40example.test",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/preview/?subscriber=alice%40example.test")
    [message] = smtp_server.messages
    assert message["To"] == curator.email
    assert re.match(r"\[Test\] \d papers? today: Text-to-Video Generation", message["Subject"])
    assert "X-Paperboy-Delivery" not in message and "List-Unsubscribe" not in message
    body = message.get_body(("plain",)).get_content()
    assert "Text-to-Video Generation with Diffusion Models" in body
    assert (Delivery.objects.count(), SentPaper.objects.count(), Subscriber.objects.count()) == before
    assert smtp_server.to("alice@example.test") == []


def test_a_test_send_of_a_persona_says_it_was_sent(curator_client, curator, sent_edition, smtp_server):
    response = curator_client.post(
        f"/admin/newsletter/edition/{sent_edition.pk}/test-send/", {"persona": "trending"}, follow=True
    )
    assert f"Test sent to {curator.email}" in response.content.decode()
    assert len(smtp_server.to(curator.email)) == 1


def test_a_refusing_mail_server_is_reported_not_raised(curator_client, curator, sent_edition, smtp_server):
    smtp_server.refuse[curator.email] = "550 5.1.1 No such user"
    response = curator_client.post(
        f"/admin/newsletter/edition/{sent_edition.pk}/test-send/", {"persona": "trending"}, follow=True
    )
    assert "The test could not be sent" in response.content.decode()
    assert smtp_server.messages == []


def test_hold_and_release_buttons_change_the_status(curator_client, sent_edition):
    url = f"/admin/newsletter/edition/{sent_edition.pk}/status/"
    curator_client.post(url, {"do": "hold"})
    sent_edition.refresh_from_db()
    assert sent_edition.status == Edition.Status.HELD
    assert b"Release" in curator_client.get(f"/admin/newsletter/edition/{sent_edition.pk}/change/").content
    curator_client.post(url, {"do": "release"})
    sent_edition.refresh_from_db()
    assert sent_edition.status == Edition.Status.SCHEDULED


def test_hold_and_release_actions_from_the_list(curator_client, sent_edition):
    url = "/admin/newsletter/edition/"
    curator_client.post(url, {"action": "hold", "_selected_action": [sent_edition.pk]})
    assert Edition.objects.get().status == Edition.Status.HELD
    curator_client.post(url, {"action": "release", "_selected_action": [sent_edition.pk]})
    assert Edition.objects.get().status == Edition.Status.SCHEDULED


def test_the_curator_note_and_picks_are_saved_from_the_edition_page(curator_client, sent_edition):
    from papers.models import Paper

    llm = Paper.objects.get(title__startswith="Scaling Laws")
    response = curator_client.post(
        f"/admin/newsletter/edition/{sent_edition.pk}/change/",
        {"curator_note": "A big day for video.", "picks": [llm.pk], "hidden": []},
    )
    assert response.status_code == 302
    sent_edition.refresh_from_db()
    assert sent_edition.curator_note == "A big day for video."
    assert list(sent_edition.picks.all()) == [llm]
    page = curator_client.get(preview_url(sent_edition, "subscriber=alice@example.test")).content.decode()
    assert "Scaling Laws for Language Models" in page  # an editor's pick reaches alice


def test_a_curator_without_an_address_is_told_so(client, sent_edition, smtp_server):
    from tests.curator.conftest import make_curator

    client.force_login(make_curator("noaddr", ""))
    response = client.post(f"/admin/newsletter/edition/{sent_edition.pk}/test-send/", {}, follow=True)
    assert "no email address" in response.content.decode()
    assert smtp_server.messages == []


def test_the_links_in_a_preview_do_not_act_on_the_reader(curator_client, client, sent_edition):
    import re

    page = curator_client.get(preview_url(sent_edition, "subscriber=alice@example.test")).content.decode()
    unsubscribe = re.search(r"Unsubscribe: http://[^/]+(/unsubscribe/[^/\s]+/)", page).group(1)
    client.post(unsubscribe)
    assert Subscriber.objects.get(email="alice@example.test").status == "active"
