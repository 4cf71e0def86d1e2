"""Paper curation, topic matches, subscriber actions, CSV import/export, scrape re-runs, login limit."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Delivery, Edition
from newsletter.sending.delivery import send_chunk
from papers.models import Paper, ScrapeRun
from subscribers.models import Status, Subscriber, SuppressedAddress, Topic
from subscribers.status import address_hash, suppression_of
from tests.newsletter.personas import DAY, a_day_of_papers, paper, reader, released_edition, topic
from tests.subscribers.helpers import signup_data

pytestmark = pytest.mark.django_db

PAPERS = "/admin/papers/paper/"
SUBSCRIBERS = "/admin/subscribers/subscriber/"


def titles(response) -> set[str]:
    return {p.title for p in response.context["cl"].result_list}


# --- papers -----------------------------------------------------------------------------------------
def test_papers_are_found_by_author_arxiv_id_and_abstract(curator_client):
    papers = a_day_of_papers()
    by_author = curator_client.get(PAPERS, {"q": "LeCun"})
    assert titles(by_author) == {"World Models"}
    by_id = curator_client.get(PAPERS, {"q": papers["robot"].arxiv_id})
    assert titles(by_id) == {"Embodied Robot Learning at Scale"}
    assert titles(curator_client.get(PAPERS, {"q": "weather"})) == {"A Diffusion Model for Weather"}


def test_papers_filter_by_topic_upvotes_and_listing_day(curator_client):
    a_day_of_papers()
    assert titles(curator_client.get(PAPERS, {"topic": video().slug})) == {
        "Text-to-Video Generation with Diffusion Models"
    }
    assert titles(curator_client.get(PAPERS, {"upvotes": "100+"})) == {
        "Text-to-Video Generation with Diffusion Models", "Robot Simulation Benchmarks",
        "Scaling Laws for Language Models",
    }  # fmt: skip
    assert titles(curator_client.get(PAPERS, {"upvotes": "0-9"})) == {"World Models"}
    later = paper("2603.99999", "A later paper", day=timezone.localdate())
    recent = curator_client.get(PAPERS, {"listings__listed_on__gte": timezone.localdate().isoformat()})
    assert titles(recent) == {later.title}


def test_the_paper_list_shows_matched_topics_and_links(curator_client):
    a_day_of_papers()
    video()
    page = curator_client.get(PAPERS).content.decode()
    # "Robot Simulation Benchmarks": two topics by the classifier; the text-to-video paper is in
    # Video by its terms (the video topic here matches by terms) and not in Image generation,
    # as the guideline says of video generation.
    assert '<td class="field-in_topics">Robotics and embodied AI, Benchmarks and evaluation</td>' in page
    assert '<td class="field-in_topics">Video</td>' in page
    assert 'href="https://arxiv.org/pdf/' in page


def video():
    return topic("video", "video generation, text-to-video")


def test_add_to_picks_and_hide_act_on_the_chosen_or_own_edition(curator_client):
    papers = a_day_of_papers()
    edition = released_edition()
    llm, sim = papers["llm"], papers["sim"]
    curator_client.post(
        PAPERS, {"action": "add_to_picks", "_selected_action": [llm.pk], "edition": edition.pk}
    )
    assert list(edition.picks.all()) == [llm]
    curator_client.post(PAPERS, {"action": "hide_from_editions", "_selected_action": [sim.pk], "edition": ""})
    assert list(edition.hidden.all()) == [sim]
    # Hiding a pick removes it from the picks, and the other way round.
    curator_client.post(PAPERS, {"action": "hide_from_editions", "_selected_action": [llm.pk], "edition": ""})
    assert list(edition.picks.all()) == [] and set(edition.hidden.all()) == {llm, sim}
    curator_client.post(PAPERS, {"action": "show_in_editions", "_selected_action": [sim.pk], "edition": ""})
    assert list(edition.hidden.all()) == [llm]


def test_a_paper_goes_into_the_edition_chosen_beside_the_action(curator_client):
    # The chosen edition was once ignored (the whole action form never validated) and the
    # paper's own edition used instead: a paper of another day shows it no longer is.
    llm = a_day_of_papers()["llm"]
    next_day = DAY + timedelta(days=1)
    a_day_of_papers(next_day)
    chosen = released_edition(next_day)
    curator_client.post(
        PAPERS, {"action": "add_to_picks", "_selected_action": [llm.pk], "edition": chosen.pk}
    )
    assert list(chosen.picks.all()) == [llm]


def test_papers_of_a_sent_edition_are_not_changed(curator_client):
    papers = a_day_of_papers()
    edition = released_edition()
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.SENT)
    response = curator_client.post(
        PAPERS, {"action": "add_to_picks", "_selected_action": [papers["llm"].pk], "edition": ""}, follow=True
    )
    assert "None of these papers is in an edition not yet sent." in response.content.decode()
    assert not edition.picks.exists()


def test_the_summary_shown_is_edited_on_the_paper_page(curator_client):
    llm = a_day_of_papers()["llm"]
    page = curator_client.get(f"{PAPERS}{llm.pk}/change/").content.decode()
    assert "Summary shown" in page
    data = {
        "arxiv_id": llm.arxiv_id, "title": llm.title, "authors": '["Ada Lovelace"]',
        "first_listed_on": llm.first_listed_on.isoformat(), "ai_summary": "Bigger models, lower loss.",
        "abstract": llm.abstract, "ai_keywords": "[]", "upvotes": llm.upvotes, "num_comments": 0,
        "listings-TOTAL_FORMS": 0, "listings-INITIAL_FORMS": 0,
    }  # fmt: skip
    assert curator_client.post(f"{PAPERS}{llm.pk}/change/", data).status_code == 302
    assert Paper.objects.get(pk=llm.pk).ai_summary == "Bigger models, lower loss."


# --- topics -----------------------------------------------------------------------------------------
def test_topic_matches_count_the_last_seven_days_live(curator_client):
    today = timezone.localdate()
    paper("2603.90001", "Video generation for robots", day=today)
    paper("2603.90002", "Old video generation", day=today - timedelta(days=8))
    paper("2603.90003", "Protein folding", day=today - timedelta(days=2))
    url = "/admin/subscribers/topic/matches/"
    page = curator_client.get(url, {"include": "video generation"}).content.decode()
    assert "<strong>1</strong> of the 2 papers listed in the last 7 days match" in page
    assert "Video generation for robots" in page and "Old video" not in page
    page = curator_client.get(url, {"include": "video generation", "exclude": "robots"}).content.decode()
    assert "<strong>0</strong> of the 2" in page
    change = curator_client.get(f"/admin/subscribers/topic/{video().pk}/change/").content.decode()
    assert 'id="topic-matches"' in change and "topic_matches.js" in change


def test_a_trained_topic_shows_what_digests_send_not_what_its_terms_match(curator_client):
    """The default Video topic is trained: its page lists the papers the classifier puts in it,
    beside the term matching (kept for editing terms), so a curator sees what readers get."""
    today = timezone.localdate()
    text_to_video = (
        "We present a text-to-video diffusion model that generates long, temporally consistent "
        "videos from prompts, with a new video VAE and a benchmark of video generation quality."
    )
    paper("2603.90011", "Long text-to-video generation with diffusion", day=today, abstract=text_to_video)
    paper("2603.90012", "Protein structure prediction at scale", day=today)
    trained = Topic.objects.get(slug="video")
    trained.include_terms = "protein"
    trained.save()
    change = curator_client.get(f"/admin/subscribers/topic/{trained.pk}/change/").content.decode()
    digests, terms = change.split("its terms match", 1)
    assert "<strong>1</strong> of the 2 papers listed in the last 7 days is in this topic" in digests
    assert "Long text-to-video generation" in digests.split("what digests send", 1)[1]
    assert "Protein structure" not in digests.split("what digests send", 1)[1]
    assert "<strong>1</strong> of the 2 papers listed in the last 7 days match" in terms
    assert "Protein structure" in terms and "Long text-to-video" not in terms


# --- subscribers -----------------------------------------------------------------------------------
def test_subscribers_filter_by_status_topic_frequency_and_time_zone(curator_client):
    reader("ana@example.test", [video()], time_zone="Europe/Paris")
    reader("ben@example.test", [], time_zone="Asia/Tokyo", frequency="weekly")
    reader("cy@example.test", [], status=Status.PENDING)

    def emails(**query):
        return {s.email for s in curator_client.get(SUBSCRIBERS, query).context["cl"].result_list}

    assert emails(tz="Asia/Tokyo") == {"ben@example.test"}
    assert emails(status__exact="pending") == {"cy@example.test"}
    assert emails(frequency__exact="weekly") == {"ben@example.test"}
    assert emails(topics__id__exact=str(video().pk)) == {"ana@example.test"}
    assert emails(q="ana@") == {"ana@example.test"}


def test_resend_confirmation_mails_pending_readers_only(
    curator_client, smtp_server, send_now, django_capture_on_commit_callbacks
):
    pending = reader("cy@example.test", [], status=Status.PENDING)
    active = reader("ana@example.test", [])
    with django_capture_on_commit_callbacks(execute=True):
        curator_client.post(
            SUBSCRIBERS, {"action": "resend_confirmation", "_selected_action": [pending.pk, active.pk]}
        )
    assert len(smtp_server.to("cy@example.test")) == 1
    assert smtp_server.to("ana@example.test") == []
    assert Subscriber.objects.get(pk=pending.pk).status == Status.PENDING


def test_suppress_stops_all_mail_and_blocks_sign_up(curator_client):
    a_day_of_papers()
    ana = reader("ana@example.test", [video()])
    pending = Delivery.objects.create(subscriber=ana, edition=released_edition())
    curator_client.post(SUBSCRIBERS, {"action": "suppress", "_selected_action": [ana.pk]})
    assert Subscriber.objects.get(pk=ana.pk).status == Status.UNSUBSCRIBED
    assert suppression_of("ana@example.test") == "curator"
    # The digest the tick had already queued for her is settled unsent when its chunk runs.
    send_chunk([pending.pk])
    assert mail.outbox == []
    settled = Delivery.objects.get(pk=pending.pk)
    assert settled.status == Delivery.Status.FAILED and "suppressed" in settled.error
    Client().post(reverse("subscribers:subscribe"), signup_data("ana@example.test"))
    assert mail.outbox == []  # a curator's suppression holds whatever is posted


def test_export_csv_has_the_selected_readers_and_defuses_formulas(curator_client):
    ana = reader("ana@example.test", [video()])
    reader("ben@example.test", [])
    Subscriber.objects.filter(pk=ana.pk).update(time_zone="=HYPERLINK(1)")
    response = curator_client.post(SUBSCRIBERS, {"action": "export_csv", "_selected_action": [ana.pk]})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["email"] for r in rows] == ["ana@example.test"]
    assert rows[0]["topics"] == "video-terms" and rows[0]["time_zone"] == "'=HYPERLINK(1)"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("readers.csv", text.encode(), content_type="text/csv")


def test_import_requires_a_consent_note(curator_client, smtp_server):
    response = curator_client.post(
        "/admin/subscribers/subscriber/import/",
        {"file": upload("email\nnew@example.test\n"), "consent_note": ""},
    )
    assert "This field is required." in response.content.decode()
    assert not Subscriber.objects.filter(email="new@example.test").exists()


@pytest.mark.parametrize("topic_id", [str(2**63), str(-(2**70)), "1e3", "x"])
def test_import_with_a_topic_id_out_of_range_is_a_form_error(curator_client, topic_id):
    response = curator_client.post(
        "/admin/subscribers/subscriber/import/",
        {"file": upload("email\nnew@example.test\n"), "consent_note": "met at a talk", "topics": [topic_id]},
    )
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not Subscriber.objects.filter(email="new@example.test").exists()


def test_import_sends_confirmations_and_activates_nobody(
    curator_client, smtp_server, send_now, django_capture_on_commit_callbacks
):
    reader("ana@example.test", [])
    SuppressedAddress.objects.create(address_hash=address_hash("gone@example.test"))
    rows = ["name,email", "New,new@example.test", "Ana,ANA@example.test", "Bad,not-an-address"]
    text = "\n".join([*rows, "Gone,gone@example.test", "New,new@example.test"])
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(
            "/admin/subscribers/subscriber/import/",
            {
                "file": upload(text),
                "consent_note": "Signed up on paper at the ML meetup, 2026-03-01.",
                "topics": [video().pk],
            },
        )
    page = response.content.decode()
    new = Subscriber.objects.get(email="new@example.test")
    assert new.status == Status.PENDING and new.confirmed_at is None
    assert (
        new.consent_text == "Signed up on paper at the ML meetup, 2026-03-01."
        and new.consent_version == "import"
    )
    assert list(new.topics.all()) == [video()]
    [confirmation] = smtp_server.to("new@example.test")
    assert "/confirm/" in confirmation.get_body(("plain",)).get_content()
    assert smtp_server.to("ana@example.test") == [] and smtp_server.to("gone@example.test") == []
    for reason in (
        "already a subscriber (active)",
        "not an email address",
        "erased at its owner",
        "listed twice",
    ):
        assert reason in page, reason
    assert not Subscriber.objects.filter(email="gone@example.test").exists()


def test_an_unreadable_import_file_is_a_clear_error(curator_client):
    response = curator_client.post(
        "/admin/subscribers/subscriber/import/",
        {
            "file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad"),
            "consent_note": "From the meetup sheet, 2026.",
        },
    )
    assert "The file is not UTF-8 text." in response.content.decode()


# --- scrape runs -------------------------------------------------------------------------------------
def test_run_again_queues_a_scrape_of_each_chosen_day(
    curator_client, monkeypatch, django_capture_on_commit_callbacks
):
    from papers import tasks

    queued = []
    monkeypatch.setattr(tasks.scrape_day_task, "delay", lambda day: queued.append(day))
    runs = [
        ScrapeRun.objects.create(
            day=day,
            url="https://huggingface.co/papers",
            status="failed",
            started_at=timezone.now(),
            duration=timedelta(seconds=1),
            error="HTTP 503",
        )
        for day in (timezone.localdate(), timezone.localdate(), timezone.localdate() - timedelta(days=1))
    ]
    with django_capture_on_commit_callbacks(execute=True):
        curator_client.post(
            "/admin/papers/scraperun/", {"action": "run_again", "_selected_action": [r.pk for r in runs]}
        )
    assert queued == sorted({r.day.isoformat() for r in runs})
    assert "HTTP 503" in curator_client.get("/admin/papers/scraperun/").content.decode()


# --- login ----------------------------------------------------------------------------------------
# Frozen: django-ratelimit counts in fixed windows, and a minute boundary would reset the count.
@time_machine.travel(datetime(2026, 3, 4, 12, 0, 5, tzinfo=UTC), tick=False)
def test_admin_login_is_rate_limited_per_client(client, settings, curator):
    settings.ADMIN_LOGIN_RATE = "3/m"
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "cora", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "cora", "password": "pw"})
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    other = client.post("/admin/login/", {"username": "cora", "password": "pw"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302  # another address is not blocked
