import re
from email import message_from_bytes, policy
from email.utils import parseaddr

import pytest

from newsletter.models import Delivery
from newsletter.ranking.rank import Ranked
from newsletter.sending.context import SUBJECT_MAX
from newsletter.sending.render import build_digest
from tests.newsletter.personas import a_day_of_papers, alice, paper, released_edition

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://paperboy.example.test"
    settings.POSTAL_ADDRESS = "Paperboy, 1 Example Street, Exampleton"
    settings.UNSUBSCRIBE_MAILTO = ""


def digest_message(items_of, **reader_fields):
    reader = alice(**reader_fields)
    delivery = Delivery.objects.create(subscriber=reader, edition=released_edition())
    items = [Ranked(p, 1.0, ("matches: Video (video generation)",)) for p in items_of]
    return build_digest(delivery, items, weekly=False), delivery


def parsed(message):
    return message_from_bytes(message.message().as_bytes(), policy=policy.default)


def test_a_digest_is_multipart_alternative_with_the_same_papers_in_text_and_html(site):
    papers = a_day_of_papers()
    message, _ = digest_message([papers["video"], papers["diffusion"]])
    mime = parsed(message)
    assert mime.get_content_type() == "multipart/alternative"
    text = mime.get_body(("plain",)).get_content()
    html = mime.get_body(("html",)).get_content()
    for title in ("Text-to-Video Generation with Diffusion Models", "A Diffusion Model for Weather"):
        assert title in text and title in html
    assert "Why: matches: Video (video generation)" in text
    assert "https://huggingface.co/papers/2603.03041" in html
    assert "https://arxiv.org/pdf/2603.03041" in text
    assert (
        "Paperboy, 1 Example Street, Exampleton" in text and "Paperboy, 1 Example Street, Exampleton" in html
    )


def test_the_subject_counts_papers_and_names_the_top_one_within_78_characters(site):
    papers = a_day_of_papers()
    message, _ = digest_message([papers["video"], papers["diffusion"]])
    assert message.subject == "2 papers today: Text-to-Video Generation with Diffusion Models"


def test_a_long_title_is_cut_to_78_characters(site):
    long = paper("2603.09999", "An Extremely Long Title About Many Things " * 4, 1)
    message, _ = digest_message([long])
    assert len(message.subject) <= SUBJECT_MAX
    assert message.subject.startswith("1 paper today: An Extremely Long Title")
    assert message.subject.endswith("…")


def test_it_carries_one_click_unsubscribe_list_id_and_a_message_id_on_the_site_domain(site, settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@paperboy.example.test"
    papers = a_day_of_papers()
    message, delivery = digest_message([papers["video"]])
    mime = parsed(message)
    https, mailto = [part.strip(" <>") for part in mime["List-Unsubscribe"].split(",")]
    assert https.startswith("https://paperboy.example.test/unsubscribe/") and https.endswith("/one-click/")
    assert mailto.startswith("mailto:unsubscribe@paperboy.example.test?subject=unsubscribe-")
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mime["List-Id"] == "Paperboy digest <digest.paperboy.example.test>"
    assert parseaddr(mime["Message-ID"])[1].endswith("@paperboy.example.test")
    # The ESP gets the delivery id and nothing personal.
    assert message.metadata == {"delivery_id": str(delivery.pk)}


def test_every_link_is_absolute(site):
    papers = a_day_of_papers()
    message, _ = digest_message(list(papers.values()))
    html = parsed(message).get_body(("html",)).get_content()
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith("https://") for h in hrefs)


def test_scraped_text_is_escaped_in_the_html(site):
    evil = paper(
        "2603.06666",
        '<script>alert("x")</script> Diffusion',
        5,
        abstract="<img src=x onerror=alert(1)> text.",
    )
    message, _ = digest_message([evil])
    html = parsed(message).get_body(("html",)).get_content()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_fifty_papers_stay_under_100_kb(site):
    long_abstract = "This sentence is part of a long abstract about diffusion models. " * 30
    many = [
        paper(f"2603.1{n:04d}", f"Paper number {n} on diffusion models", n, abstract=long_abstract)
        for n in range(50)
    ]
    message, _ = digest_message(many)
    html = parsed(message).get_body(("html",)).get_content()
    assert len(html.encode()) <= 100 * 1024, len(html.encode())
    assert len(message.message().as_bytes()) <= 160 * 1024


def test_every_paper_has_more_and_less_like_this_links_signed_for_this_reader(site):
    from subscribers.tokens import read_feedback_token

    papers = a_day_of_papers()
    message, delivery = digest_message([papers["video"], papers["diffusion"]])
    text = parsed(message).get_body(("plain",)).get_content()
    link = r"https://paperboy\.example\.test/feedback/([^/]+)/\?paper=(\d+)&vote=(more|less)"
    links = re.findall(link, text)
    assert len(links) == 4
    assert len({token for token, _, _ in links}) == 1  # one signature per digest, not per paper
    named = {read_feedback_token(token, pk) for token, pk, _ in links}
    assert named == {(delivery.subscriber, papers["video"].pk), (delivery.subscriber, papers["diffusion"].pk)}
    html = parsed(message).get_body(("html",)).get_content()
    assert html.count(">More like this</a>") == 2 and html.count(">Less like this</a>") == 2
