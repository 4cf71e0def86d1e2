"""`manage.py scrape_papers`: one day or an inclusive range, a summary line per day."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from papers.models import Paper, ScrapeRun
from tests.papers.conftest import PAGE_DAY, serve_api, serve_page, with_props

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("scrape_papers", *args, "--no-progress", stdout=out)
    return out.getvalue()


def page_of(page_html: str, day: date, empty: bool = False) -> str:
    return with_props(page_html, lambda p: {**p, "date": f"{day}", **({"dailyPapers": []} if empty else {})})


def test_it_scrapes_one_day(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    out = run("--date", "2024-08-01")
    lines = out.splitlines()
    assert lines[0].startswith("2024-08-01 ok      island  13 papers: 13 new, 0 updated, 0 unchanged")
    assert lines[1] == "1 days: 1 ok, 0 empty, 0 failed; 13 new, 0 updated, 0 unchanged papers"
    assert Paper.objects.count() == 13


def test_it_scrapes_an_inclusive_range_and_can_run_again(hf, page_html):
    serve_page(hf, date(2024, 8, 2), page_of(page_html, date(2024, 8, 2)))
    serve_page(hf, date(2024, 8, 3), page_of(page_html, date(2024, 8, 3), empty=True))
    serve_page(hf, date(2024, 8, 4), page_of(page_html, date(2024, 8, 4), empty=True))
    first = run("--from", "2024-08-02", "--to", "2024-08-04")
    assert [line[:17] for line in first.splitlines()[:3]] == [
        "2024-08-02 ok    ",
        "2024-08-03 empty ",
        "2024-08-04 empty ",
    ]
    again = run("--from", "2024-08-02", "--to", "2024-08-04")
    assert "0 new, 0 updated, 13 unchanged" in again.splitlines()[0]
    assert ScrapeRun.objects.count() == 6


def test_skip_done_skips_days_already_scraped(hf, page_html):
    serve_page(hf, PAGE_DAY, page_html)
    serve_page(hf, date(2024, 8, 2), page_of(page_html, date(2024, 8, 2), empty=True))
    run("--date", "2024-08-01")
    out = run("--from", "2024-08-01", "--to", "2024-08-02", "--skip-done")
    assert out.splitlines()[0].startswith("2024-08-02 empty")
    assert "1 days:" in out


def test_a_failed_day_is_reported_and_fails_the_command(hf, page_html):
    serve_page(hf, PAGE_DAY, "<html>broken</html>")
    serve_api(hf, PAGE_DAY, "broken")
    out = StringIO()
    with pytest.raises(CommandError, match="1 day\\(s\\) failed: 2024-08-01"):
        call_command("scrape_papers", "--date", "2024-08-01", "--no-progress", stdout=out)
    assert out.getvalue().startswith("2024-08-01 failed")
    assert "the API answer is not JSON" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --date YYYY-MM-DD, or both --from and --to"),
        (("--from", "2024-08-01"), "give --date YYYY-MM-DD, or both --from and --to"),
        (("--date", "2024-08-01", "--to", "2024-08-02"), "not both"),
        (("--from", "2024-08-02", "--to", "2024-08-01"), "is after"),
        (("--from", "2024-08-02", "--to", "2999-01-01"), "in the future"),
    ],
)
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("scrape_papers", *args)


def test_a_bad_date_is_explained():
    with pytest.raises(CommandError, match="not a date"):
        call_command("scrape_papers", "--date", "01/08/2024")
