"""The benchmark command runs (its figures are read by people, not asserted: no timed tests)."""

from io import StringIO

import pytest
from django.core.management import call_command

from papers.models import Paper, ScrapeRun

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("serve", ["page", "api"])
def test_the_benchmark_reports_parse_times_and_throughput_and_rolls_back(captures, serve):
    out = StringIO()
    call_command(
        "bench_ingest",
        "--fixtures",
        str(captures),
        "--days",
        "3",
        "--repeat",
        "1",
        "--serve",
        serve,
        stdout=out,
    )
    text = out.getvalue()
    assert "parse page 2024-08-01.html: 13 papers" in text
    assert "parse API  2026-06-12.json: 30 papers" in text
    assert "parse time per page (median of the captures, 1 runs each): listing page " in text
    assert "backfill of 3 archive days from a local server serving " in text
    assert "3 ok, 0 empty, 0 failed; 36 new papers" in text
    assert (Paper.objects.count(), ScrapeRun.objects.count()) == (0, 0)
