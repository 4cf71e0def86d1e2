"""The send path renders the digest templates once per edition and assembles each reader's email
from per-paper blocks, filling in their counts, reasons, address and links: every reader must
still get exactly the email the templates give for them alone."""

import random
from email import message_from_bytes, policy

import pytest
import time_machine
from bs4 import BeautifulSoup

from benchmarks.naive import build_digest_one_by_one
from newsletter.models import Delivery
from newsletter.ranking.rank import Ranked
from newsletter.sending import render
from newsletter.sending.render import build_digest, digest_layout
from subscribers.followups import News
from tests.newsletter.personas import a_day_of_papers, alice, paper, reader, released_edition, video

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script> & "quotes" \'single\' \xa0nbsp'


def parts(message) -> dict[str, str]:
    mime = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return {
        "subject": str(mime["Subject"]),
        "to": str(mime["To"]),
        "text": mime.get_body(("plain",)).get_content(),
        "html": mime.get_body(("html",)).get_content(),
        "list-unsubscribe": str(mime["List-Unsubscribe"]),
    }


def assert_same_email(got: dict[str, str], expected: dict[str, str]) -> None:
    """Identical but for how the HTML spells an escaped character (&quot; or " in text)."""
    for key in ("subject", "to", "text", "list-unsubscribe"):
        assert got[key] == expected[key], key
    assert BeautifulSoup(got["html"], "html.parser") == BeautifulSoup(expected["html"], "html.parser")
    assert render.slot("x").split(".")[0] not in got["html"] + got["text"]


@pytest.fixture
def day(settings):
    settings.SITE_URL = "https://paperboy.example.test"
    papers = list(a_day_of_papers().values())
    papers.append(paper("2603.09999", f"Hostile {HOSTILE}", authors=[HOSTILE], abstract=f"{HOSTILE}. Two."))
    edition = released_edition()
    edition.curator_note = f"Note {HOSTILE}"
    edition.save()
    return edition, papers


@time_machine.travel("2026-03-05 08:00:00+00:00", tick=False)
def test_digests_assembled_from_one_render_match_the_templates_reader_by_reader(day):
    """Random subsets, orders and reasons (some hostile) of the edition's papers, for readers with
    awkward addresses: one layout render serves them all, and each email equals the one-by-one one.
    (The clock stands still: signed links carry the second they were made in.)"""
    edition, papers = day
    rng = random.Random(3)
    emails = ["alice@example.test", "o'brien+news@example.test", "a&b@example.test"]
    render._layouts.clear()
    layout = digest_layout(edition, False, papers)
    for n in range(12):
        subscriber = reader(f"r{n}-{emails[n % 3]}", [video()])
        chosen = rng.sample(papers, rng.randint(1, len(papers)))
        reasons = [rng.choice(["matches: Video (text-to-video)", f"your keywords: {HOSTILE}", "trending"])]
        # Some trending picks among them: the digest shows those apart, after the reader's own.
        items = [Ranked(p, 1.0, tuple(reasons * rng.randint(1, 2)), rng.random() < 0.3) for p in chosen]
        delivery = Delivery.objects.create(subscriber=subscriber, edition=edition)
        got = parts(build_digest(delivery, items, weekly=False, layout=layout))
        expected = parts(build_digest_one_by_one(delivery, items, weekly=False))
        assert_same_email(got, expected)
        assert "&lt;script&gt;" in got["html"] and "<script>" not in got["html"]
    assert len(render._layouts) == 1  # one render served every reader


@time_machine.travel("2026-03-05 08:00:00+00:00", tick=False)
def test_a_layout_for_other_papers_is_not_used(day):
    edition, papers = day
    delivery = Delivery.objects.create(subscriber=alice(), edition=edition)
    items = [Ranked(papers[0], 1.0, ("matches: Video (text-to-video)",))]
    other = digest_layout(edition, False, papers[1:])
    got = parts(build_digest(delivery, items, weekly=False, layout=other))
    assert_same_email(got, parts(build_digest_one_by_one(delivery, items, weekly=False)))


@time_machine.travel("2026-03-05 08:00:00+00:00", tick=False)
def test_weekly_digests_and_readers_with_news_match_the_templates(day):
    edition, papers = day
    weekday = edition.listed_on.weekday()
    subscriber = reader("weekly@example.test", [video()], frequency="weekly", weekday=weekday)
    delivery = Delivery.objects.create(subscriber=subscriber, edition=edition)
    items = [Ranked(p, 1.0, ("editor's pick",)) for p in papers[:3]]
    items += [Ranked(papers[3], 0.5, ("trending: 9 upvotes",), trending=True)]
    news = [News(papers[4], f"code released {HOSTILE}")]
    for weekly, with_news in [(True, ()), (True, news), (False, news)]:
        got = parts(build_digest(delivery, items, weekly=weekly, news=with_news))
        assert_same_email(got, parts(build_digest_one_by_one(delivery, items, weekly=weekly, news=with_news)))


def test_a_changed_paper_is_rendered_again(settings):
    papers = a_day_of_papers()
    edition = released_edition()
    delivery = Delivery.objects.create(subscriber=alice(), edition=edition)
    item = Ranked(papers["video"], 2.0, ("matches: Video (video generation)",))
    assert "212 upvotes" in build_digest(delivery, [item], weekly=False).body
    papers["video"].upvotes = 250
    assert "250 upvotes" in build_digest(delivery, [item], weekly=False).body
