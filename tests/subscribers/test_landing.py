"""The landing page shows the product: the latest listing's top papers under the form, and the
digest a visitor would have received for the topics and keywords they choose (the "Preview"
button without JavaScript, the fragment the page's script swaps in with it)."""

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from newsletter.ranking.rank import candidates_from_scores, profile_of, rank
from papers.models import Paper, ScrapeRun
from papers.scores import compute_scores
from subscribers.models import Subscriber, Topic
from tests.subscribers.helpers import make_paper

pytestmark = pytest.mark.django_db
DAY = date(2025, 3, 5)


@pytest.fixture
def listing():
    make_paper("2503.00001", "Scaling reasoning in large language models", 120, DAY,
               abstract="We train large language models to reason step by step.",
               ai_summary="Longer chains of thought make LLMs better at maths.")  # fmt: skip
    make_paper("2503.00002", "A humanoid robot learns to fold laundry", 40, DAY,
               abstract="A robot manipulation policy for deformable objects.")  # fmt: skip
    make_paper("2503.00003", "Speculative decoding for faster inference", 15, DAY,
               abstract="Speculative decoding speeds up large language model inference.")  # fmt: skip
    make_paper("2503.00004", "An older paper", 500, date(2025, 3, 4))


def llms() -> Topic:
    return Topic.objects.get(slug="llms")


def preview_titles(html: str) -> list[str]:
    section = html.split('id="preview"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'rel="noopener">([^<]+)</a>', section)


def test_the_landing_lists_the_latest_listings_top_papers_under_the_form(client, listing):
    html = client.get("/").content.decode()
    top = html.split('id="latest-title"', 1)[1]
    assert "Top papers of the 5 March 2025 listing" in top
    titles = re.findall(r'<li>\s*<a href="[^"]+" rel="noopener">([^<]+)</a>', top)
    assert titles == [
        "Scaling reasoning in large language models",
        "A humanoid robot learns to fold laundry",
        "Speculative decoding for faster inference",
    ]  # the day's, by upvotes: not the older day's paper
    assert "Longer chains of thought make LLMs better at maths." in top  # the one-line summary
    assert "https://arxiv.org/abs/2503.00001" in top and "▲ 120" in top
    assert html.index("<form") < html.index('id="latest-title"')
    assert "Tick a topic or type keywords" in html


def test_the_preview_button_keeps_the_choices_and_shows_what_they_would_bring(client, listing):
    data = {"email": "", "topics": [llms().pk], "keywords": "speculative decoding", "preview": "1"}
    response = client.post("/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please fix the fields" not in html  # nothing was asked to be validated
    assert re.search(rf'value="{llms().pk}"[^>]*checked', html)
    assert 'value="speculative decoding"' in html
    titles = preview_titles(html)
    assert "Speculative decoding for faster inference" in titles
    assert "A humanoid robot learns to fold laundry" not in titles
    assert "keyword “speculative decoding”" in html or "speculative decoding" in html.split('id="preview"')[1]
    assert not Subscriber.objects.exists()


def test_the_preview_is_ranked_by_the_digests_own_code(client, listing):
    topics = [llms()]
    html = client.get(reverse("subscribers:signup-preview"), {"topics": [llms().pk]}).content.decode()
    papers = list(Paper.objects.filter(listings__listed_on=DAY))
    candidates = candidates_from_scores(compute_scores(papers, topics), {p.pk: p for p in papers})
    expected = [r.paper.title for r in rank(profile_of(Subscriber(), topics), candidates, set())]
    assert expected and preview_titles('id="preview"' + html + "</section>") == expected


def test_the_fragment_says_what_to_do_before_any_choice_and_refuses_nothing_odd(client, listing):
    url = reverse("subscribers:signup-preview")
    assert "Tick a topic or type keywords" in client.get(url).content.decode()
    odd = client.get(url, {"topics": ["x", "99999999999999999999", "-1"], "keywords": "a\nb" * 600})
    assert odd.status_code == 200
    assert client.post(url).status_code == 405


def test_signing_up_keeps_the_keywords_typed_on_the_landing(client, listing, settings):
    settings.SUBSCRIBERS_MIN_FILL_SECONDS = 0
    form = client.get("/").context["form"]
    data = {
        "email": "kim@example.test", "topics": [llms().pk], "keywords": "speculative decoding, kv cache",
        "frequency": "daily", "weekday": 0, "delivery_hour": 7, "time_zone": "UTC",
        "started": form["started"].initial, "website": "",
    }  # fmt: skip
    time.sleep(0.01)
    assert client.post(reverse("subscribers:subscribe"), data).status_code == 302
    assert Subscriber.objects.get().keywords == ["speculative decoding", "kv cache"]


def test_subscribe_is_the_forms_default_button(client, listing):
    html = client.get("/").content.decode()
    form = html.split('<form class="card signup"', 1)[1].split("</form>", 1)[0]
    buttons = re.findall(r'<button type="submit"[^>]*>([^<]+)<', form)
    assert buttons[0] == "Subscribe" and "Preview my digest first" in buttons


def test_an_empty_store_says_papers_are_coming_and_a_failed_first_fetch_tells_the_operator(client):
    html = client.get("/").content.decode()
    assert "The first papers are being loaded" in html
    ScrapeRun.objects.create(day=DAY, url="http://127.0.0.1:9/papers", status="failed",
                             started_at=datetime(2025, 3, 5, 6, 10, tzinfo=UTC),
                             duration=timedelta(seconds=1), error="connection failed")  # fmt: skip
    html = client.get("/").content.decode()
    assert "could not load the listing from Hugging Face" in html
    assert re.search(r"python manage.py scrape_papers --from \d{4}-\d\d-\d\d --to \d{4}-\d\d-\d\d", html)
