"""A family loses neither its code nor its files: Chromium, JavaScript off, phone viewport."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request

from intake import create_app
from intake.store.models import Attachment, PendingFile
from intake.web.database import get_session
from tests import live
from tests.browser.family import send
from tests.live import LiveServer
from tests.submit.conftest import marker_file, read_everything

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def code_shown(page: Page) -> str:
    """Read the follow-up code as the page shows it, word by word as numbered."""
    page.wait_for_load_state()
    page.locator("ol.code-words li").first.wait_for(timeout=5000)
    return " ".join(page.locator("ol.code-words li").all_inner_texts())


def code_on_form(page: Page) -> str:
    """Read the code from the form's box (open, so that it is seen on every round)."""
    assert page.get_attribute("details.code-box", "open") is not None
    return code_shown(page)


def switch_language(page: Page, name: str) -> None:
    """Press a language button (they send the page's own form, by POST)."""
    page.click(f"nav.languages button:has-text('{name}')")
    page.wait_for_load_state()


def back_then_reload(page: Page) -> None:
    """Go back, then reload as Chromium offers on its "Confirm form resubmission" page.

    Family pages are no-store, so going back to a POST response is a cache miss; the
    reload sends the same form again, and with it the same code.
    """
    move_then_reload(page, page.go_back)


def forward_then_reload(page: Page) -> None:
    """Go forward again, reloading the same way."""
    move_then_reload(page, page.go_forward)


def move_then_reload(page: Page, move: Callable[[], object]) -> None:
    """Move in history (a no-store POST page is a cache miss), then reload it."""
    failure = ""
    try:
        move()
    except PlaywrightError as error:
        failure = str(error)
    assert failure == "" or "ERR_CACHE_MISS" in failure
    for _ in range(20):
        try:
            page.reload()
        except PlaywrightError as error:
            failure = str(error)
        else:
            return
        # A reload while Chromium swaps in its error page fails; wait and reload again.
        assert "Not attached to an active page" in failure
        page.wait_for_timeout(100)
    raise AssertionError("the page could not be reloaded")


def require_answers(page: Page) -> None:
    """Answer the required questions but the testimony itself."""
    page.check("input[name=consent_internal]")
    page.fill("[name=name]", "ناشناس")
    page.select_option("select[name=relationship]", "son")


@pytest.fixture
def urls(new_page: Callable[..., Page]) -> tuple[Page, list[Request]]:
    """A phone-sized page, and every request it makes (to check no URL carries the code)."""
    page = new_page(viewport=PHONE)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    return page, requests


def test_reload_back_and_language_switch_never_lose_the_code_and_it_opens_the_case(
        live_server: LiveServer, urls: tuple[Page, list[Request]], output_dir: Path) -> None:
    """Reload, language switch and back at every step show the same code; /followup opens it."""
    page, requests = urls
    page.goto(live_server.url + "/submit")
    page.click("button:has-text('کد مرا نشان بده')")
    code = code_shown(page)
    assert len(code.split()) == 8
    back_then_reload(page)  # the start page, fetched again: it carries the code shown
    page.click("button:has-text('کد مرا نشان بده')")
    assert code_shown(page) == code
    page.screenshot(path=str(output_dir / "code-fa-phone.png"), full_page=True)
    page.reload()
    assert code_shown(page) == code
    switch_language(page, "English")
    assert page.get_attribute("html", "lang") == "en"
    assert code_shown(page) == code
    page.screenshot(path=str(output_dir / "code-en-phone.png"), full_page=True)
    page.click("button:has-text('Continue to the form')")
    assert "Please write the words down" in page.inner_text("main")  # the box is not ticked
    page.check("input[name=written_down]")
    page.click("button:has-text('Continue to the form')")
    assert code_on_form(page) == code
    switch_language(page, "فارسی")
    assert page.get_attribute("html", "dir") == "rtl"
    assert code_on_form(page) == code
    back_then_reload(page)
    assert code_on_form(page) == code
    forward_then_reload(page)
    assert code_on_form(page) == code
    require_answers(page)
    page.fill("[name=testimony]", "کوتاه")
    send(page)
    assert code_shown(page) == code  # the receipt
    page.reload()
    assert code_shown(page) == code  # "already received", with the code
    switch_language(page, "English")
    assert code_shown(page) == code
    back_then_reload(page)
    assert code_shown(page) == code  # the receipt, in Persian

    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("dl.outline").count() == 1
    words = code.split()
    assert [r.url for r in requests if any(word in r.url for word in words)] == []
    assert [r.url for r in requests if r.method == "GET" and "code" in r.url] == []
    assert [(r.url, r.headers["referer"]) for r in requests if r.headers.get("referer")] == []


def stored(server: LiveServer, monkeypatch: pytest.MonkeyPatch,
           ) -> tuple[list[bytes], int, set[str]]:
    """Decrypt every stored file as the admin; count pending files; list attachment blobs."""
    for name in ("INTAKE_INSTANCE", "INTAKE_KEYS_DIR", "INTAKE_KDF_PROFILE",
                 "INTAKE_CODE_KDF_PROFILE"):
        monkeypatch.setenv(name, server.env[name])
    app = create_app()
    files = [f["content"] for case in read_everything(app, live.ADMIN_PASSPHRASE)
             for f in case["files"]]
    with app.app_context():
        session = get_session()
        return (files, session.query(PendingFile).count(),
                {blob for (blob,) in session.query(Attachment.blob)})


def test_a_form_sent_back_for_a_missing_answer_keeps_two_files_until_sent_byte_for_byte(
        tmp_path: Path, new_page: Callable[..., Page], monkeypatch: pytest.MonkeyPatch,
        output_dir: Path) -> None:
    """Missing testimony, two files: corrected and sent without choosing them again."""
    server = live.start(tmp_path, live.initialise(tmp_path))
    try:
        first, second = tmp_path / "نامه.txt", tmp_path / "scan.pdf"
        first.write_bytes(marker_file(700_000))
        second.write_bytes(marker_file(3000, "second-file"))
        page = new_page(viewport=PHONE)
        page.goto(server.url + "/submit")
        page.click("button:has-text('ادامه بدون کد') >> nth=0")
        require_answers(page)
        page.set_input_files("input[name=attachments]", [str(first), str(second)])
        send(page)
        listed = page.locator(".pending-files li").all_inner_texts()
        assert [name.split()[0] for name in listed] == ["نامه.txt", "scan.pdf"]
        assert page.locator(".error-summary a[href='#testimony']").count() == 1
        page.screenshot(path=str(output_dir / "form-fa-files-kept-phone.png"), full_page=True)
        page.fill("[name=testimony]", "کوتاه")
        send(page)
        assert page.locator("h1").inner_text() == "شهادت شما دریافت شد"
        files, pending, blobs = stored(server, monkeypatch)
        assert sorted(files) == sorted([first.read_bytes(), second.read_bytes()])
        assert pending == 0
        assert {p.name for p in (server.instance / "store").iterdir()} == blobs
    finally:
        server.stop()
