"""The admin lists papers and scrape runs, and never renders scraped text unescaped."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from papers.models import Paper, PaperListing, ScrapeRun

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.test", "pw"))
    return client


@pytest.fixture
def evil_paper():
    paper = Paper.objects.create(
        arxiv_id="2407.21783",
        title=f"Llama {EVIL}",
        abstract=EVIL,
        authors=[EVIL],
        submitted_by=EVIL,
        ai_keywords=[EVIL],
        first_listed_on=date(2024, 8, 1),
    )
    PaperListing.objects.create(paper=paper, listed_on=date(2024, 8, 1))
    return paper


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_the_paper_list_escapes_titles_and_links_out(admin_client, evil_paper):
    response = admin_client.get("/admin/papers/paper/?q=Llama")
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html)
    assert 'href="https://arxiv.org/abs/2407.21783"' in html
    assert 'href="https://huggingface.co/papers/2407.21783"' in html


def test_the_paper_page_escapes_every_scraped_field(admin_client, evil_paper):
    response = admin_client.get(f"/admin/papers/paper/{evil_paper.pk}/change/")
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_scrape_runs_are_listed_and_filterable(admin_client):
    ScrapeRun.objects.create(
        day=date(2024, 8, 1),
        url="http://127.0.0.1/papers/date/2024-08-01",
        status="failed",
        error=EVIL,
        started_at=timezone.now(),
        duration=timedelta(seconds=2),
    )
    response = admin_client.get("/admin/papers/scraperun/?status__exact=failed")
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 scrape run" in html
    run = ScrapeRun.objects.get()
    detail = admin_client.get(f"/admin/papers/scraperun/{run.pk}/change/").content.decode()
    assert_escaped(detail)
