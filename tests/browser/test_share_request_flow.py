"""In Chromium with JavaScript off, against the real server: a family that gave its testimony
to one desk, without the coalition consent, asks with its code for another; the desk that
holds the case shares it from the case page; the asked desk's reviewer reads it; the family
sees the request waiting, then the desk among those that have its testimony."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.family import send, take_a_code
from tests.browser.test_desks_flow import coalition_server, log_in  # noqa: F401 (a fixture)
from tests.live import LiveServer

pytestmark = pytest.mark.browser

NAME = "زهرا کریمی"


def open_followup(page: Page, server: LiveServer, code: str, lang: str) -> None:
    """Type the code on the follow-up page, in this language, and open the case."""
    page.goto(f"{server.url}/followup?lang={lang}")
    page.fill("textarea[name=code]", code)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_a_family_asks_with_its_code_and_a_holding_desk_shares_its_case(
        coalition_server: LiveServer,  # noqa: F811 (the imported fixture)
        new_page: Callable[..., Page], output_dir: Path) -> None:
    family = new_page()
    code = take_a_code(family, coalition_server.url + "/submit?lang=en")
    family.check("#desk-main")
    family.check("input[name=consent_internal]")
    family.fill("[name=name]", NAME)
    family.select_option("select[name=relationship]", "daughter")
    family.fill("[name=testimony]", "پدرم در شهریور ۱۳۶۷ اعدام شد.")
    send(family)
    assert family.locator("p.error, .error-summary").count() == 0, family.content()[:2000]

    for lang in ("fa", "en"):
        for width in (360, 1280):
            page = new_page(viewport={"width": width, "height": 900})
            open_followup(page, coalition_server, code, lang)
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "fa"
                                                                  else "ltr")
            choice = page.locator("section#share")
            assert choice.locator("input[type=checkbox]").count() == 2
            choice.scroll_into_view_if_needed()
            choice.screenshot(path=str(output_dir / f"share-choice-{lang}-{width}.png"))

    open_followup(family, coalition_server, code, "en")
    family.check("#share-desk-c")
    with family.expect_navigation():
        family.click("section#share button[type=submit]")
    assert "asked, waiting" in family.content()
    family.locator("section#share").screenshot(path=str(output_dir / "share-asked-en.png"))

    main = new_page(viewport={"width": 1280, "height": 900})
    log_in(main, coalition_server, "reviewer")
    main.click(f"text={NAME}")
    assert main.locator("form.share-request").count() == 1
    with main.expect_navigation():
        main.click("form.share-request button")
    assert main.locator("form.share-request").count() == 0

    c = new_page(viewport={"width": 1280, "height": 900})
    log_in(c, coalition_server, "c-reviewer")
    c.click(f"text={NAME}")
    assert "پدرم در شهریور ۱۳۶۷ اعدام شد." in c.content()

    open_followup(family, coalition_server, code, "en")
    status = family.content()
    assert "Status at Mothers of Khavaran desk" in status
    assert ", as you asked" in status
    assert "asked, waiting" not in status
