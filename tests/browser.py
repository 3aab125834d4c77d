"""Headless Chromium through Playwright, with Debian's browser (never a downloaded one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import CHROMIUM, require_or_skip

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
READY = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    '[data-test-script-state="notRunning"]'
)
# Without these, Chromium keeps trying to reach Google's hosts from a machine with no internet.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Headless Chromium builds the address bar's suggestion popup (a page of its own, in a
    # renderer of its own) for every new window it opens, though it never shows it: ~1.6 s of
    # CPU, on a machine of two cores, spent while the page under test loads. A visitor's
    # browser built it once, when its window opened.
    "--disable-features=" + ",".join((
        "WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup",
        "PreloadTopChromeWebUI")),
]


@contextmanager
def chromium_page() -> Iterator:
    require_or_skip(CHROMIUM is not None, "headless Chromium (Debian 'chromium') is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


# Streamlit scrolls inside its main element, not the document, so a "full page" screenshot of
# the document shows only the first screen: the viewport is stretched to the content instead.
_CONTENT_HEIGHT = """() => Math.max(document.body.scrollHeight,
    ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
    .map(e => e.scrollHeight))"""


def screenshot(page, name: str) -> Path:
    """The whole page as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    viewport = page.viewport_size
    height = min(int(page.evaluate(_CONTENT_HEIGHT)), 12_000)
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(viewport)
    return path
