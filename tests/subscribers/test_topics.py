"""The default topics, checked against two years of the real listing, and the admin."""

from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.management import call_command

from papers.matching import compile_matcher, match_text, text_of
from papers.sources.archive import archive_papers
from subscribers.default_topics import DEFAULT_TOPICS
from subscribers.mailer import send_subscriber_email
from subscribers.models import Status, Topic
from tests.services import require
from tests.subscribers.helpers import make_subscriber

ARCHIVE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "fixtures"
    / "hf"
    / "daily-papers-archive.jsonl.gz"
)


def require_archive() -> Path:
    require(ARCHIVE.is_file(), f"needs the listing archive at {ARCHIVE}")
    return ARCHIVE


@pytest.mark.django_db
def test_the_migration_creates_the_default_topics():
    topics = list(Topic.objects.filter(active=True))
    assert 12 <= len(topics) <= 16
    assert [t.slug for t in topics] == [t["slug"] for t in DEFAULT_TOPICS]
    assert all(t.description and t.include_terms for t in topics)
    assert {t.slug: t.description for t in topics} == {t["slug"]: t["description"] for t in DEFAULT_TOPICS}


@pytest.mark.django_db
def test_an_install_on_guideline_1_3_gets_the_new_safety_description_unless_a_curator_wrote_one():
    migration = import_module("subscribers.migrations.0007_safety_description_guideline_1_4")
    Topic.objects.filter(slug="safety").update(description=migration.BEFORE)
    Topic.objects.filter(slug="llms").update(description="Our own words.")
    migration.describe_as_guideline_1_4(django_apps, None)
    assert Topic.objects.get(slug="safety").description == migration.AFTER
    Topic.objects.filter(slug="safety").update(description="A curator's words.")
    migration.describe_as_guideline_1_4(django_apps, None)
    assert Topic.objects.get(slug="safety").description == "A curator's words."
    assert Topic.objects.get(slug="llms").description == "Our own words."


def test_every_default_topic_matches_a_fair_share_of_the_real_listing():
    papers = [text_of(p) for p in archive_papers(require_archive())]
    assert len(papers) > 9000
    for topic in DEFAULT_TOPICS:
        matcher = compile_matcher(topic["include"], topic["exclude"])
        share = sum(match_text(matcher, text).matched for text in papers) / len(papers)
        # Neither a niche nobody would get mail for, nor a catch-all.
        assert 0.03 <= share <= 0.6, (topic["slug"], share)
    unmatched = sum(
        not any(match_text(compile_matcher(t["include"], t["exclude"]), text).matched for t in DEFAULT_TOPICS)
        for text in papers
    )
    assert unmatched / len(papers) < 0.05


@pytest.mark.django_db
def test_topic_coverage_reports_a_count_per_active_topic(capsys):
    Topic.objects.exclude(slug__in=["robotics", "video"]).update(active=False)
    call_command("topic_coverage", archive=require_archive())
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("papers in daily-papers-archive.jsonl.gz")
    assert [line.split()[0] for line in out[1:]] == ["video", "robotics", "(no"]
    assert all(int(line.split()[1]) > 100 for line in out[1:3])


@pytest.mark.django_db
def test_a_flow_email_is_not_sent_when_the_status_changed_before_the_worker_ran():
    bob = make_subscriber("bob@example.test", Status.ACTIVE)
    assert send_subscriber_email(bob.id, "confirm") is False
    assert send_subscriber_email(bob.id + 1000, "manage-link") is False
    assert mail.outbox == []
    with pytest.raises(ValueError, match="unknown subscriber email"):
        send_subscriber_email(bob.id, "digest")


@pytest.mark.django_db
def test_the_admin_lists_topics_subscribers_and_suppressions(admin_client):
    make_subscriber("alice@example.test")
    for path in ["subscribers/topic/", "subscribers/subscriber/", "subscribers/suppressedaddress/"]:
        assert admin_client.get(f"/admin/{path}").status_code == 200
    assert "alice@example.test" in admin_client.get("/admin/subscribers/subscriber/").content.decode()
