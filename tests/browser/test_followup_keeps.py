"""A follow-up addition sent back for a change keeps its files (Chromium, JavaScript off, phone).

Before, the addition form dropped every chosen file when it came back, and a family
on Tor had to choose and send them all again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request

from tests.browser.family import send, take_a_code
from tests.browser.test_family_keeps import require_answers, stored, switch_language
from tests.live import LiveServer
from tests.submit.conftest import marker_file
from tests.submit.test_storing import BROKEN_JPEG

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_an_addition_sent_back_lists_its_two_files_and_sends_them_without_choosing_again(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path,
        tmp_path: Path) -> None:
    first, second, photo = tmp_path / "حکم.txt", tmp_path / "letter.pdf", tmp_path / "photo.jpg"
    first.write_bytes(b"first file " * 100)
    second.write_bytes(b"second file " * 100)
    photo.write_bytes(BROKEN_JPEG)  # cannot be cleaned: the addition comes back
    page = new_page(viewport=PHONE)
    code = take_a_code(page, live_server.url + "/submit")
    require_answers(page)
    page.fill("[name=testimony]", "شهادت")
    send(page)
    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    page.fill("[name=addition]", "نامهٔ تازه")
    page.set_input_files("input[name=attachments]", [str(first), str(second), str(photo)])
    page.click("form[action='/followup/add'] button[type=submit]:has-text('فرستادن')")
    assert page.locator(".pending-files li span").all_inner_texts() == [
        "حکم.txt", "letter.pdf", "photo.jpg"]
    page.screenshot(path=str(output_dir / "followup-fa-files-kept-phone.png"), full_page=True)
    page.click("button[name=remove_file] >> nth=2")
    assert page.locator(".pending-files li span").all_inner_texts() == ["حکم.txt", "letter.pdf"]
    assert page.input_value("[name=addition]") == "نامهٔ تازه"
    page.click("form[action='/followup/add'] button[type=submit]:has-text('فرستادن')")
    assert page.locator(".pending-files").count() == 0
    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    # The outline now counts one addition (in Persian digits), sent with both files.
    assert "۱" in page.inner_text("dl.outline")


def test_a_language_switch_on_the_status_page_keeps_the_typed_addition_and_its_files(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text typed and two files chosen, then English and back to Persian: sent byte for byte.

    The language links of the status page went to /followup/?lang=en, which sent the
    family back to the code page: the code, the text and the files were gone.
    """
    first, second = tmp_path / "نامه.txt", tmp_path / "scan.pdf"
    first.write_bytes(marker_file(600_000, secrets.token_hex(8)))
    second.write_bytes(marker_file(3000, secrets.token_hex(8)))
    page = new_page(viewport=PHONE)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    code = take_a_code(page, live_server.url + "/submit")
    require_answers(page)
    page.fill("[name=testimony]", "شهادت")
    send(page)
    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    page.fill("[name=addition]", "نامهٔ دادستانی پیدا شد")
    page.set_input_files("input[name=attachments]", [str(first), str(second)])
    switch_language(page, "English")
    assert (page.get_attribute("html", "lang"), page.get_attribute("html", "dir")) == ("en", "ltr")
    assert page.input_value("[name=addition]") == "نامهٔ دادستانی پیدا شد"
    assert page.locator(".pending-files li span").all_inner_texts() == ["نامه.txt", "scan.pdf"]
    page.screenshot(path=str(output_dir / "followup-en-language-kept-phone.png"), full_page=True)
    switch_language(page, "فارسی")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator(".pending-files li span").all_inner_texts() == ["نامه.txt", "scan.pdf"]
    page.click("form#addition-form button[name=action][value=send]:visible")
    assert page.locator("h1").inner_text() == "به شهادت شما افزوده شد"
    files = stored(live_server, monkeypatch)[0]
    assert (files.count(first.read_bytes()), files.count(second.read_bytes())) == (1, 1)
    assert [r.url for r in requests if any(word in r.url for word in code.split())] == []
