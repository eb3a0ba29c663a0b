"""A family submits in Persian through real Chromium with JavaScript off, then follows up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.family import send, skip_the_code, take_a_code
from tests.live import CLIENT_IP, CLIENT_USER_AGENT, LiveServer
from tests.submit.conftest import MARKER, gps_jpeg, marker_file

pytestmark = pytest.mark.browser

TEXT_ANSWERS = {
    "name": f"محمد رضایی {MARKER}", "relationship_other": "", "other_names": "ممد",
    "fathers_name": "علی", "age": "۲۶", "birthplace": "رشت", "occupation": "دانشجو",
    "affiliation_labelled": "منافق", "affiliation_held": "هوادار",
    "arrest_place": "خیابان انقلاب، تهران", "arrest_forces": "کمیتهٔ انقلاب اسلامی",
    "earlier_sentence": "ده سال حبس", "prisons": "اوین ۱۳۶۰–۱۳۶۵، گوهردشت ۱۳۶۵–۱۳۶۷",
    "told_how": "در آبان ۱۳۶۷ ساکی از وسایلش را دادند", "belongings_details": "ساک و ساعت",
    "stated_cause": "اعلام نشد", "burial_place": "خاوران، گوشهٔ شمالی",
    "authorities": "دادستانی اوین؛ پاسخی ندادند", "earlier_reports": "عفو بین‌الملل",
    "reprisals": "احضار پدرم", "contact": "از طریق عمه‌ام",
    "testimony": f"آخرین بار در تیر ۱۳۶۷ او را دیدیم. {MARKER} ملاقات‌ها قطع شد.",
}
DATES = {
    "birth_date": ("۱۳۴۱", "year"), "arrest_date": ("۱۵ فروردین ۱۳۶۰", "exact"),
    "last_visit_date": ("۱ مرداد ۱۳۶۷", "exact"), "told_date": ("آبان ۱۳۶۷", "month"),
    "death_date": ("شهریور ۱۳۶۷", "month"),
}
SELECTS = {"relationship": "sister", "sex": "male", "belongings_returned": "yes",
           "death_certificate": "no", "inside_country": "prefer_not"}


def fill_everything(page: Page, files: list[Path]) -> None:
    """Answer every question of every section, as a family member would."""
    for name in ("consent_internal", "consent_anonymised", "consent_un", "consent_courts"):
        page.check(f"input[name={name}]")
    for name, value in TEXT_ANSWERS.items():
        page.fill(f"[name={name}]", value)
    for name, value in SELECTS.items():
        page.select_option(f"select[name={name}]", value)
    for name, (text, precision) in DATES.items():
        page.fill(f"input[name='{name}-text']", text)
        page.select_option(f"select[name='{name}-calendar']", "solar_hijri")
        page.select_option(f"select[name='{name}-precision']", precision)
    page.set_input_files("input[name=attachments]", [str(f) for f in files])


def test_a_family_submits_in_persian_and_returns_with_the_code(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path,
        tmp_path: Path) -> None:
    document, photo = tmp_path / "نامه.txt", tmp_path / "photo.jpg"
    document.write_bytes(marker_file(2 * 1024 * 1024))
    photo.write_bytes(gps_jpeg())
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    page.click("a.button[href='/submit']")
    code = take_a_code(page, page.url)
    assert page.get_attribute("html", "dir") == "rtl"
    fill_everything(page, [document, photo])
    page.screenshot(path=str(output_dir / "form-fa.png"), full_page=True)
    send(page)
    assert page.inner_text("p.code") == code
    assert len(code.split()) == 8
    page.screenshot(path=str(output_dir / "receipt-fa.png"), full_page=True)
    page.click("a.button >> nth=0")
    assert page.locator("p.code").count() == 0
    page.reload()  # nothing on the page after the receipt shows the code again
    assert code not in page.content()

    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    assert "۲" in page.inner_text("dl.outline")
    page.screenshot(path=str(output_dir / "followup-fa.png"), full_page=True)
    assert_marker_nowhere(live_server)


def assert_quick_exit_off_site(page: Page, server: LiveServer) -> None:
    """The page offers one visible quick-exit link to an https address on another site."""
    link = page.locator("a.quick-exit")
    assert link.count() == 1, page.url
    assert link.is_visible()
    target = urlsplit(link.get_attribute("href") or "")
    assert target.scheme == "https", page.url
    assert target.hostname not in (None, "", "127.0.0.1", "localhost",
                                   urlsplit(server.url).hostname), page.url


def test_every_family_page_has_a_quick_exit_off_site_with_javascript_off(
        live_server: LiveServer, new_page: Callable[..., Page]) -> None:
    page = new_page()
    for path in ("/", "/submit", "/followup"):
        page.goto(live_server.url + path)
        assert_quick_exit_off_site(page, live_server)
    code = take_a_code(page, live_server.url + "/submit")
    assert_quick_exit_off_site(page, live_server)  # the form
    page.check("input[name=consent_internal]")
    page.fill("[name=name]", "ناشناس")
    page.select_option("select[name=relationship]", "son")
    page.fill("[name=testimony]", "کوتاه")
    send(page)
    assert page.inner_text("p.code") == code  # the receipt page
    assert_quick_exit_off_site(page, live_server)
    page.goto(live_server.url + "/followup")
    page.fill("textarea[name=code]", code)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("dl.outline").count() == 1  # the follow-up status page
    assert_quick_exit_off_site(page, live_server)


def test_the_form_in_english_is_left_to_right(live_server: LiveServer,
                                              new_page: Callable[..., Page],
                                              output_dir: Path) -> None:
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/submit?lang=en")
    page.screenshot(path=str(output_dir / "start-en.png"), full_page=True)
    skip_the_code(page, live_server.url + "/submit?lang=en")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.locator("section").count() == 8
    page.screenshot(path=str(output_dir / "form-en.png"), full_page=True)


def test_a_wrong_code_gets_the_same_answer_as_a_malformed_one(
        live_server: LiveServer, new_page: Callable[..., Page]) -> None:
    answers = []
    for typed in ("سیب سیب سیب سیب سیب سیب سیب سیب", "not a code at all"):
        page = new_page()
        page.goto(live_server.url + "/followup")
        page.fill("textarea[name=code]", typed)
        page.click("button[type=submit]")
        answers.append(re.sub(r'value="[^"]*"|>[^<]*' + re.escape(typed), "",
                              page.inner_html("main")))
    assert answers[0] == answers[1]


def assert_marker_nowhere(server: LiveServer, *also: str) -> None:
    """Search every file the server wrote for the marker, the client's IP and user agent.

    The files are everything under the server's root: instance (database with its WAL
    and journal, store), keyring, serve.log, and its temp dir, where the spool probe
    keeps anything it spooled through tempfile.TemporaryFile.
    """
    assert server.spool_probe_active(), "the server runs without the spool probe"
    texts = [MARKER, "محمد رضایی", CLIENT_IP, CLIENT_USER_AGENT, *also]
    needles = [form for text in texts for form in
               (text.encode(), text.encode().hex().encode(), text.encode("utf-16-le"))]
    files = server.written_files()
    assert server.root / "serve.log" in files
    assert any(p.suffix == "" and len(p.name) == 32
               for p in (server.instance / "store").iterdir())  # the store was written
    hits = []
    for path in files:
        content = path.read_bytes()
        hits += [f"{path}: {needle[:40]!r}" for needle in needles if needle in content]
    assert hits == []


def assert_fits_a_phone(page: Page) -> None:
    """Nothing on the page reaches past a 360 px screen, so a family never scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_every_family_page_fits_a_phone_without_scrolling_sideways(
        live_server: LiveServer, new_page: Callable[..., Page], lang: str) -> None:
    """Reproduction: the reviewer pages' rule that a date never wraps (.date) also matched the
    form's date boxes (fieldset.date), whose hint then ran 535 px wide on a 360 px phone."""
    page = new_page(viewport={"width": 360, "height": 800})
    for path in ("/", "/submit", "/followup"):
        page.goto(f"{live_server.url}{path}?lang={lang}")
        assert_fits_a_phone(page)
    take_a_code(page, f"{live_server.url}/submit?lang={lang}")
    assert_fits_a_phone(page)  # the form
    page.fill("[name=testimony]", "کوتاه")
    send(page)
    assert page.locator(".error-summary").count() == 1  # sent back: answers are missing
    assert_fits_a_phone(page)
