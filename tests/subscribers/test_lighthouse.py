"""Lighthouse (npm, pinned in package.json) in Debian's Chromium on the two pages a newcomer and a
reader see most: the landing page with papers and the preference centre. Every category must
score at least 98 on a phone (Lighthouse's default, simulated slow 4G) and on a desktop.

About 20 s per run. A phone run whose performance misses is run twice more and the median run
counts, with a calibrated CPU slowdown when the host is slower than Lighthouse expects (see
calibrated_cpu_slowdown). The JSON reports are kept in test-artifacts/lighthouse/. A failure
names the audits that cost points, so whoever breaks a page knows why.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from subscribers import tokens
from subscribers.default_topics import create_missing_topics
from subscribers.models import Topic
from tests.browser import ROOT, chromium_path
from tests.newsletter.personas import a_day_of_papers, alice
from tests.services import require

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / "test-artifacts" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MIN_SCORE = 0.98
# The preference centre is a private page (a signed token in its URL): it says noindex on purpose,
# which Lighthouse's "Page is blocked from indexing" counts against SEO. Every other SEO audit
# still applies to it.
SKIPPED_AUDITS = {"manage": ["is-crawlable"], "landing": []}
# Below this benchmark index Lighthouse says the host is slower than it expects (its own
# SLOW_CPU_BENCHMARK_INDEX_THRESHOLD): only then do repeated phone runs use a calibrated CPU
# slowdown. On a host as fast as Lighthouse assumes, its default 4x is what counts.
SLOW_HOST_BENCHMARK_INDEX = 1000


def run_lighthouse(
    url: str, name: str, *, desktop: bool, skip_audits: list[str], cpu_slowdown: float | None = None
) -> dict:
    chromium = chromium_path()
    require(chromium is not None, "needs Debian's chromium (apt-get install chromium)")
    require(LIGHTHOUSE.is_file(), f"needs lighthouse: run `npm ci` in {ROOT}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{name}.json"
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        # Root in CI: Chromium's sandbox needs an unprivileged user.
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]
    if desktop:
        command.append("--preset=desktop")
    if skip_audits:
        command.append(f"--skip-audits={','.join(skip_audits)}")
    if cpu_slowdown is not None:
        command.append(f"--throttling.cpuSlowdownMultiplier={cpu_slowdown:.2f}")
    # Lighthouse itself fails now and then: a Chromium that did not start under load, or a trace
    # missing its navigation start (NO_NAVSTART, seen twice in a row on an idle machine). Those
    # runs give no scores at all, so they are run again; a low score is never retried here.
    for _ in range(3):
        result = subprocess.run(
            command,
            env={**os.environ, "CHROME_PATH": chromium},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode == 0:
            break
    assert result.returncode == 0, f"lighthouse failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return json.loads(Path(report).read_text(encoding="utf-8"))


def calibrated_cpu_slowdown(benchmark_index: float) -> float:
    """The mobile CPU slowdown that emulates Lighthouse's reference phone on this host.

    Lighthouse's 4x assumes a fast desktop host (benchmark index about 1500). On a slower one,
    such as a loaded two-core CI box, 4x emulates a much slower phone, and Lighthouse warns
    "The tested device appears to have a slower CPU than Lighthouse expects". The figures are
    Lighthouse's calibration (docs/throttling.md, "CPU throttling", and its calculator)."""
    if benchmark_index >= 1300:
        return 3 + (benchmark_index - 1300) / 233
    if benchmark_index >= 800:
        return 2 + (benchmark_index - 800) / 500
    return max(1.0, 1 + (benchmark_index - 150) / 650)


def scores(lhr: dict) -> dict[str, float]:
    return {key: lhr["categories"][key]["score"] for key in CATEGORIES}


def costly_audits(lhr: dict, category: str) -> list[str]:
    """The weighted audits of `category` that did not pass: id, title, score and what they saw."""
    lines = []
    for ref in lhr["categories"][category]["auditRefs"]:
        audit = lhr["audits"][ref["id"]]
        if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
            shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
            lines.append(f"  {audit['id']}: {audit['title']}, score {audit['score']}{shown}")
    return lines


def explain(lhr: dict) -> str:
    lines = [f"{lhr['finalDisplayedUrl']} ({lhr['configSettings']['formFactor']})"]
    for key, score in scores(lhr).items():
        if score is None or score < MIN_SCORE:
            lines.append(f"{key}: {score}")
            lines.extend(costly_audits(lhr, key))
    errors = lhr["audits"].get("errors-in-console", {}).get("details", {}).get("items", [])
    lines.extend(
        f"  console: {item.get('description')} {item.get('sourceLocation', {}).get('url', '')}"
        for item in errors
    )
    return "\n".join(lines)


@pytest.fixture
def site(live_server, settings) -> dict[str, str]:
    """The landing page with a day of papers and alice's preference centre, by name."""
    settings.SITE_URL = live_server.url
    # A transactional test before this one flushed the migrated rows.
    create_missing_topics(Topic)
    a_day_of_papers()
    return {"landing": f"{live_server.url}/", "manage": tokens.manage_url(alice())}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("form_factor", ["mobile", "desktop"])
@pytest.mark.parametrize("page", ["landing", "manage"])
def test_every_lighthouse_category_scores_at_least_98(site, page, form_factor):
    name, desktop = f"{page}-{form_factor}", form_factor == "desktop"
    lhr = run_lighthouse(site[page], name, desktop=desktop, skip_audits=SKIPPED_AUDITS[page])
    print(f"{page} {form_factor}: {scores(lhr)}, benchmark index {lhr['environment']['benchmarkIndex']}")
    if not desktop and scores(lhr)["performance"] < MIN_SCORE:
        # Lighthouse's advice on variance (docs/variability.md): judge the median of several runs.
        benchmark = lhr["environment"]["benchmarkIndex"]
        slowdown = calibrated_cpu_slowdown(benchmark) if benchmark < SLOW_HOST_BENCHMARK_INDEX else None
        runs = [lhr]
        for attempt in (2, 3):
            runs.append(
                run_lighthouse(
                    site[page],
                    f"{name}-{attempt}",
                    desktop=False,
                    skip_audits=SKIPPED_AUDITS[page],
                    cpu_slowdown=slowdown,
                )
            )
            print(f"{page} {form_factor} run {attempt}, CPU slowdown {slowdown or 4:.2f}: {scores(runs[-1])}")
        lhr = sorted(runs, key=lambda run: scores(run)["performance"])[1]
    assert lhr["configSettings"]["formFactor"] == form_factor
    assert all(score is not None and score >= MIN_SCORE for score in scores(lhr).values()), explain(lhr)


def test_the_favicon_is_served_at_the_root_with_a_long_cache(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header, not an error page
    assert "max-age=2592000" in response["Cache-Control"] and "public" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_describe_themselves_and_link_the_icons(client):
    html = client.get("/").content.decode()
    assert '<meta name="description" content="Paperboy emails you the papers' in html
    assert '<link rel="icon" href="/static/favicon.ico" sizes="32x32">' in html
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    manage_request = client.get("/manage/").content.decode()
    assert '<meta name="description" content="Get a link by email to change your Paperboy' in manage_request
