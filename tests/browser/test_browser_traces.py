"""What a family's own browser keeps on disk after a visit, in a real Chromium profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.family import send, take_a_code
from tests.live import LiveServer

pytestmark = pytest.mark.browser
NAME = "AUTOFILL-NAME-زهرا"
PLACE = "AUTOFILL-PLACE-رشت"


def visit(playwright: Playwright, server: LiveServer, profile: Path) -> str:
    """Send a testimony from a browser profile kept on disk, close the browser; the code."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        java_script_enabled=False)
    try:
        page = context.new_page()
        code = take_a_code(page, server.url + "/submit")
        page.check("input[name=consent_internal]")
        page.fill("[name=name]", NAME)
        page.select_option("select[name=relationship]", "daughter")
        page.fill("[name=birthplace]", PLACE)
        page.fill("[name=testimony]", "testimony")
        send(page)
        assert page.locator("p.code").count() == 1  # received
    finally:
        context.close()
    return code


def test_the_browser_keeps_no_answer_in_its_autofill_data_after_closing(
        playwright: Playwright, live_server: LiveServer, tmp_path: Path) -> None:
    """Reproduction: Chromium saved the person's name and birthplace typed into the
    testimony form in its autofill database ("Web Data"), which outlives closing the
    browser, so a seized phone offered the victim's name as a suggestion on any site."""
    visit(playwright, live_server, tmp_path / "profile")
    autofill = [p for p in (tmp_path / "profile").rglob("Web Data*") if p.is_file()]
    assert autofill, "Chromium wrote no autofill database: the test would prove nothing"
    for path in autofill:
        content = path.read_bytes()
        for typed in (NAME, PLACE):
            for form in (typed.encode(), typed.encode("utf-16-le")):
                assert form not in content, (path.name, typed)


def test_the_done_page_does_not_promise_that_closing_an_ordinary_window_leaves_no_trace(
        playwright: Playwright, live_server: LiveServer, tmp_path: Path) -> None:
    """Reproduction: the done page said "to leave no trace on this device, close this
    browser window", but an ordinary Chromium profile, closed, still holds the code and
    the page's form on disk (its session files); only Tor Browser or a private window
    forgets them."""
    code = visit(playwright, live_server, tmp_path / "profile")
    kept = [p for p in (tmp_path / "profile").rglob("*")
            if p.is_file() and code.encode() in p.read_bytes()]
    assert kept, "the profile no longer keeps the code: the page may say more"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
    page = browser.new_page(java_script_enabled=False)
    page.goto(live_server.url + "/submit/done?lang=en")
    done = page.inner_text("main")
    browser.close()
    assert "leave no trace" not in done
    assert "private window" in done
    assert "even after it is closed" in done
