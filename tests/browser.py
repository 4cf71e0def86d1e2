"""Real-browser fixtures: Debian's headless Chromium driven by Playwright, axe-core injected from
node_modules, screenshots kept in test-artifacts/screenshots/ (the SMTP server is tests/smtp.py).

Never a downloaded browser: Playwright only drives /usr/bin/chromium (`playwright install` is
never run). Without Chromium, Playwright or `npm ci`, the tests skip (fail under REQUIRE_SERVICES=1).
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import require

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture
def browser_page(monkeypatch) -> Iterator:
    """A Playwright page in Debian's Chromium at desktop width."""
    executable = chromium_path()
    require(executable is not None, "needs Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "needs playwright (pip install -r requirements-dev.txt)")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still
    # plain synchronous code, so Django's async-safety guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Berlin")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    require(AXE.is_file(), f"needs axe-core: run `npm ci` in {ROOT}")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the pages' CSP forbids inline <script> tags.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def capture(page, name: str) -> list[Path]:
    """Full-page screenshots at phone and desktop widths, then back to desktop."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    return paths
