"""The Nu HTML checker and axe-core on every page of the curator console that Paperboy adds or
customises (listed from the admin registrations and the urlconf: tests/security/admin_pages.py),
signed in as a superuser, with a sent edition and a row behind every admin. One vnu invocation,
running while one browser visits the pages. Findings land in test-artifacts/checkers/."""

import re

import pytest

from tests.browser import axe_violations
from tests.security.admin_pages import AdminPage, add_console_rows, fetch_admin_pages
from tests.security.site import build_site
from tests.security.test_checkers import OBSOLETE, nu_results, record, serve, start_nu

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("send_now")]

# The preview of a digest is email HTML (shown in an iframe): the email rule applies, table
# attributes that mail clients need are allowed.
EMAIL_PAGES = {"newsletter_edition_preview_html"}
# Pages the console has for sure; the listing finds more (every change, delete, history page).
KNOWN = {
    "index", "admin-dashboard", "admin-login", "login (too many attempts)",
    "newsletter_edition_change", "newsletter_edition_preview", "newsletter_edition_test_send",
    "newsletter_edition_status", "papers_paper_changelist", "subscribers_topic_change",
    "subscribers_subscriber_import", "subscribers_topic_matches", "import (skipped rows)",
}  # fmt: skip
# Templates of ours that draw a whole page: axe may find nothing at all on them.
OWN_TEMPLATES = {
    "admin/dashboard.html",
    "admin/login_limited.html",
    "admin/newsletter/edition/preview.html",
    "admin/subscribers/subscriber/import.html",
}
# Serious axe findings in Django 5.2's own admin markup, styles and scripts, by rule and the
# elements they name. Anything else fails.
STOCK_AXE = {
    # The autocomplete widget (select2, autocomplete_fields): an unlabelled search box in a
    # list it does not belong in.
    "label": r"select2",
    "list": r"select2",
    # SelectFilter2.js (filter_horizontal): an aria-label on the search icon's bare <span>.
    "aria-prohibited-attr": r"\.help-tooltip\.search-label-icon",
}
# Django's pages whose markup does not depend on the ModelAdmin: axe looks at one of each (the
# Nu checker reads them all).
SAME_FOR_EVERY_MODEL = {"admin/app_index.html", "admin/delete_confirmation.html", "admin/object_history.html"}


def shown(pages: dict[str, AdminPage]) -> dict[str, AdminPage]:
    """The pages a curator sees: answered with HTML (the 403s of admins without an add page out)."""
    assert set(pages) >= KNOWN, KNOWN - set(pages)
    assert all(page.status in (200, 403, 429) for page in pages.values()), {
        name: page.status for name, page in pages.items()
    }
    refused = {name for name, page in pages.items() if page.status == 403}
    assert all(name.endswith("_add") for name in refused), refused
    return {name: page for name, page in pages.items() if page.status != 403}


def as_document(page: AdminPage) -> str:
    """A fragment (the topic matches the admin's script fetches) inside the smallest valid page."""
    if page.is_document:
        return page.html
    head = '<!DOCTYPE html><html lang="en"><head><title>fragment</title></head>'
    return f"{head}<body>{page.html}</body></html>"


def nu_findings(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors by page; on the email preview, only those that are not 'obsolete attribute' notes."""
    kept = {
        name: [e for e in found if name not in EMAIL_PAGES or not OBSOLETE.search(e)]
        for name, found in errors.items()
    }
    return {name: found for name, found in kept.items() if found}


def not_stock(violations: list[dict]) -> list[tuple[str, str]]:
    """(rule, element) of each finding that STOCK_AXE does not explain."""
    pairs = [(v["id"], " ".join(map(str, node))) for v in violations for node in v["nodes"]]
    return [(rule, node) for rule, node in pairs if not re.search(STOCK_AXE.get(rule, "^(?!)"), node)]


def axe_findings(browser_page, base_url: str, pages: dict[str, AdminPage]) -> dict[str, list[dict]]:
    found, seen = {}, set()
    for name, page in pages.items():
        if not page.is_document:
            continue  # the topic matches: shown inside the topic change page, checked there
        if page.template in SAME_FOR_EVERY_MODEL and page.template in seen:
            continue
        seen.add(page.template)
        # Each page exactly as the server answered it (POST answers included), styled and
        # scripted by the live server's static files.
        url = base_url + page.url
        browser_page.route(url, serve(page.html))
        browser_page.goto(url)
        browser_page.unroute(url)
        if violations := axe_violations(browser_page):
            found[name] = violations
    return found


def test_every_admin_page_passes_the_nu_html_checker_and_axe(
    browser_page, live_server, client, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    pages = shown(fetch_admin_pages(client, add_console_rows(build_site())))
    nu = start_nu({name: as_document(page) for name, page in pages.items()}, tmp_path)
    # The browser is the same curator: the preview's iframe and the topic page's script fetch
    # from the live server.
    cookie = settings.SESSION_COOKIE_NAME
    browser_page.context.add_cookies(
        [{"name": cookie, "value": client.cookies[cookie].value, "url": live_server.url}]
    )
    axe = axe_findings(browser_page, live_server.url, pages)
    nu_errors = nu_findings(nu_results(nu))
    unexplained = {name: pairs for name, v in axe.items() if (pairs := not_stock(v))}
    on_our_pages = {name: v for name, v in axe.items() if pages[name].template in OWN_TEMPLATES}
    record("admin-nu-html-checker.json", {"pages": len(pages), "errors": nu_errors})
    record(
        "admin-axe.json",
        {"serious_or_critical": axe, "not_stock": unexplained, "on_our_pages": on_our_pages},
    )
    assert len(pages) >= 50, sorted(pages)
    assert nu_errors == {}
    assert unexplained == {}
    assert on_our_pages == {}
