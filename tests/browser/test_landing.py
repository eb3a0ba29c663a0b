"""The landing page in real Chromium through the real server, with JavaScript off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_landing_page_loads_in_persian_right_to_left(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    page = new_page(viewport={"width": 390, "height": 844})
    response = page.goto(live_server.url + "/")
    assert response is not None
    assert response.status == 200
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    assert page.locator("a.quick-exit").inner_text() == "خروج سریع از این سایت"
    page.screenshot(path=str(output_dir / "landing-fa.png"), full_page=True)


def test_language_link_switches_to_english_left_to_right(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    page.click("text=English")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h2").first.inner_text() == "What we will do with your testimony"
    page.reload()
    assert page.get_attribute("html", "dir") == "ltr"
    page.screenshot(path=str(output_dir / "landing-en.png"), full_page=True)


def test_javascript_is_really_off(live_server: LiveServer, new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto(live_server.url + "/")
    page.set_content("<p id=x>off</p>"
                     "<script>document.getElementById('x').textContent='on'</script>")
    assert page.inner_text("#x") == "off"


def test_the_stylesheet_loads_under_the_content_security_policy(
        live_server: LiveServer, new_page: Callable[..., Page]) -> None:
    page = new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server.url + "/")
    colour = page.eval_on_selector("a.quick-exit", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(138, 28, 28)"
    assert blocked == []
