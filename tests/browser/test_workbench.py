"""Reviewer pages in Chromium: mixed-direction text in its right order, the case page and inbox
laid out for work at desktop and phone width, bulk actions without JavaScript."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.family import send, skip_the_code
from tests.browser.test_review_flow import totp_code
from tests.live import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, LiveServer, initialise, start

pytestmark = pytest.mark.browser
SOLAR_DAY = "۱۵ فروردین ۱۳۴۰"  # 15 Farvardin 1340, 4 April 1961
SOLAR_MONTH = "فروردین ۱۳۴۰"  # the whole month: 21 March to 20 April 1961
SHOTS = Path("/tmp/workbench-shots")
OVERRIDE = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: reverses what follows, to the paragraph's end

# Where each word's glyphs are drawn: a Range over its characters in the element's text.
WHERE = """(element, words) => {
  const found = {};
  for (const word of words) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const at = node.data.indexOf(word);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + word.length);
      const box = range.getBoundingClientRect();
      found[word] = {left: box.left, right: box.right, top: box.top,
                     lines: new Set(Array.from(range.getClientRects(), r => r.top)).size};
      break;
    }
  }
  return found;
}"""


def family_sends(page: Page, server: LiveServer, name: str, place: str,
                 typed_after_day: str = "") -> None:
    """Send a testimony in Persian without a code, with a day and a month in the Solar Hijri
    calendar and a place typed in Latin script with Persian in brackets."""
    skip_the_code(page, server.url + "/submit?lang=fa")
    page.check("input[name=consent_internal]")
    page.fill("[name=name]", name)
    page.select_option("select[name=relationship]", "daughter")
    page.fill("[name=arrest_place]", place)
    for field, text, precision in (("arrest_date", SOLAR_DAY + typed_after_day, "exact"),
                                   ("death_date", SOLAR_MONTH, "month")):
        page.fill(f"input[name='{field}-text']", text)
        page.select_option(f"select[name='{field}-calendar']", "solar_hijri")
        page.select_option(f"select[name='{field}-precision']", precision)
    page.fill("[name=testimony]", "او را در فروردین ۱۳۴۰ بردند. Evin (اوین) was the last prison.")
    send(page)


def log_in(page: Page, server: LiveServer, name: str = "reviewer") -> None:
    page.goto(server.url + "/review/login")
    page.fill("[name=name]", name)
    page.fill("[name=passphrase]", ADMIN_PASSPHRASE if name == "admin" else REVIEWER_PASSPHRASE)
    page.fill("[name=code]", totp_code(server, name))
    page.click("button[type=submit]")
    page.wait_for_load_state()  # the page the login opens, loaded before it is read
    assert page.url.endswith("/review/")


def where(page: Page, selector: str, *words: str) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = page.locator(selector).first.evaluate(WHERE,
                                                                               list(words))
    assert set(found) == set(words), (selector, found)
    return found


def centre(box: dict[str, float]) -> float:
    return (box["left"] + box["right"]) / 2


def answer_row(label: str) -> str:
    """The <dd> of the answer whose <dt> is `label`."""
    return f"dl.answers dt:text-is('{label}') + dd"  # a Playwright selector


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own: its filters and neighbours count only its cases."""
    root = tmp_path_factory.mktemp("workbench")
    server = start(root, initialise(root, reviewers=("reviewer",)), workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cases(live_server: LiveServer, browser) -> list[str]:  # type: ignore[no-untyped-def]
    """Four testimonies, as families send them (names no other browser test sends)."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for name, place, after in (("فاطمه موسوی", "Evin prison, Tehran (اوین)", ""),
                               ("Ali Rezaei", "Gohardasht (گوهردشت), Karaj", ""),
                               ("مریم احمدی", "خاوران", ""),
                               ("رضا تهرانی", "Qezel Hesar", OVERRIDE)):
        family_sends(page, live_server, name, place, after)
    context.close()
    return ["فاطمه موسوی", "Ali Rezaei", "مریم احمدی", "رضا تهرانی"]


def test_a_persian_date_keeps_its_order_in_the_english_view_and_an_iso_range_in_the_persian(
        live_server: LiveServer, new_page: Callable[..., Page], cases: list[str]) -> None:
    """Reproduction: in the English view "۱۵ فروردین ۱۳۴۰" showed as "۱۵ ۱۳۴۰ فروردین" (the
    year pulled beside the day), and in the Persian view "1961-03-21 – 1961-04-20" read
    right to left, the later day first, and broke at a hyphen."""
    page = new_page(javascript=True, viewport={"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(live_server.url + "/review/?lang=en")
    page.click(f"text={cases[0]}")
    dd = answer_row("Date of arrest")
    day, month, year = SOLAR_DAY.split()
    found = where(page, dd, day, month, year, "Solar Hijri", "1961-04-04")
    # Persian reads right to left: the day rightmost, then the month, the year leftmost.
    assert centre(found[day]) > centre(found[month]) > centre(found[year])
    # Isolated: the English around it stays after it, in English order.
    assert found[day]["right"] < found["Solar Hijri"]["left"] < found["1961-04-04"]["left"]

    # A Persian testimony is a right-to-left paragraph in the English view, not a left-aligned
    # block whose wrapped lines put its English sentence's full stop at the wrong end.
    testimony = page.locator(answer_row("Your testimony, in your own words"))
    assert testimony.evaluate("el => getComputedStyle(el).direction") == "rtl"

    page.goto(page.url.split("?")[0] + "?lang=fa")
    page.set_viewport_size({"width": 360, "height": 800})
    death = answer_row("تاریخ مرگ، آن‌گونه که خانواده می‌داند")
    found = where(page, death, "1961-03-21", "1961-04-20", "فروردین")
    assert found["1961-03-21"]["right"] < found["1961-04-20"]["left"]
    # The Gregorian range sits at the line's end (left, in Persian), after the family's words.
    assert found["1961-04-20"]["right"] < found["فروردین"]["left"] or \
        found["1961-04-20"]["top"] > found["فروردین"]["top"]
    # Never broken at a hyphen or the dash, wherever the line happens to end.
    span = page.locator(death + " span.date")
    for width in range(300, 440, 7):
        page.set_viewport_size({"width": width, "height": 800})
        tops = span.evaluate("el => new Set(Array.from(el.getClientRects(), r => r.top)).size")
        assert tops == 1, width
    received = where(page, "p.case-facts", "-")
    assert received["-"]["lines"] == 1


def test_a_latin_name_with_brackets_keeps_its_punctuation_in_the_persian_inbox(
        live_server: LiveServer, new_page: Callable[..., Page], cases: list[str]) -> None:
    """Reproduction: "Gohardasht (گوهردشت), Karaj" in a right-to-left cell moved the comma and
    brackets to the wrong end."""
    page = new_page(javascript=True, viewport={"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(live_server.url + "/review/?lang=fa")
    row = "table.inbox tr:has-text('Ali Rezaei') td:nth-child(4)"
    found = where(page, row, "Gohardasht", "گوهردشت", "Karaj")
    # Isolated and left-to-right from its first letter: in the order it was typed.
    assert found["Gohardasht"]["right"] < found["گوهردشت"]["left"] < found["Karaj"]["left"]


def test_bulk_label_and_status_work_without_javascript_and_each_case_shows_them(
        live_server: LiveServer, new_page: Callable[..., Page], cases: list[str],
        output_dir: Path) -> None:
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(live_server.url + "/review/?lang=en")
    for name in cases[:2]:
        page.check(f"tr:has-text('{name}') input[name=case]")
    page.fill("fieldset.bulk-bar input[name=label]", "خاوران ۶۷")
    page.click("button[name=action][value=label]")
    assert "2 cases changed." in page.inner_text("main")
    for name in cases[:2]:
        page.check(f"tr:has-text('{name}') input[name=case]")
    page.select_option("fieldset.bulk-bar select[name=status]", "in_triage")
    page.click("button[name=action][value=status]")
    assert "2 cases changed." in page.inner_text("main")
    for name in cases[:2]:
        row = page.locator(f"tr:has-text('{name}')")
        assert "خاوران ۶۷" in row.inner_text()
        assert "In triage" in row.inner_text()
    # Filter, open a case, and walk the filter with the next-case link.
    page.goto(live_server.url + "/review/?lang=en&status=in_triage")
    page.click("section.saved-filters button[type=submit]")  # "Save this filter"
    assert page.inner_text("section.saved-filters li a") == "Status: In triage"
    page.click(f"text={cases[1]}")
    page.fill("textarea[name=text] >> nth=0", "Called the family (تماس گرفتیم).")
    with page.expect_navigation():
        page.click("form[action*='/note'] button")
    assert "status=in_triage" in page.url
    assert "reviewer" in page.inner_text("article.note .byline")
    # The filter holds two cases, received the same day (ordered by their random ids): from
    # one, the other is either the previous or the next, and it leads back.
    links = {rel: page.locator(f"a[rel={rel}]").count() for rel in ("prev", "next")}
    assert sorted(links.values()) == [0, 1]
    there = "prev" if links["prev"] else "next"
    page.click(f"a[rel={there}]")
    assert cases[0] in page.inner_text("h1")
    back = "next" if there == "prev" else "prev"
    assert page.locator(f"a[rel={there}]").count() == 0
    page.click(f"a[rel={back}]")
    assert cases[1] in page.inner_text("h1")
    shoot_everything(page, live_server, output_dir)


def shoot_everything(page: Page, server: LiveServer, output_dir: Path) -> None:
    """Screenshots of the case page and inbox, both languages, phone and desktop."""
    case_url = page.url.split("?")[0]
    SHOTS.mkdir(exist_ok=True)
    for lang in ("en", "fa"):
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            for name, url in (("case", f"{case_url}?lang={lang}&status=in_triage"),
                              ("inbox", f"{server.url}/review/?lang={lang}")):
                page.goto(url)
                shot = output_dir / f"workbench-{name}-{lang}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                shutil.copy(shot, SHOTS / shot.name)
    page.set_viewport_size({"width": 360, "height": 900})
    # The width of the page must not exceed the phone's: nothing scrolls sideways.
    page.goto(f"{server.url}/review/?lang=fa")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_admin_users_table_fits_a_360_pixel_phone(
        live_server: LiveServer, new_page: Callable[..., Page], output_dir: Path,
        lang: str) -> None:
    """Reproduction: the users table (fingerprints, grant form, three buttons a row) was
    about 1,100 px wide, so on a phone it scrolled sideways and hid the buttons."""
    page = new_page(javascript=True, viewport={"width": 360, "height": 800})
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/?lang={lang}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for button in page.locator("table.users button, table.users a.button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 360
    SHOTS.mkdir(exist_ok=True)
    shot = output_dir / f"workbench-admin-{lang}-360.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, SHOTS / shot.name)


def test_an_override_typed_into_a_date_does_not_reverse_the_page_text_after_it(
        live_server: LiveServer, new_page: Callable[..., Page], cases: list[str]) -> None:
    """Reproduction: a date typed as "۱۵ فروردین ۱۳۴۰" followed by U+202E (kept as typed: it
    is the family's text) turned "(Solar Hijri, Exact day) → 1961-04-04" after it into
    "40-40-1691 ← )yad tcaxE ,irjiH raloS(" until the end of the line."""
    page = new_page(javascript=True, viewport={"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(live_server.url + "/review/?lang=en")
    page.click(f"text={cases[3]}")
    found = where(page, answer_row("Date of arrest"), "Sol", "jri", "Exa", "1961-", "-04")
    assert found["Sol"]["left"] < found["jri"]["left"] < found["Exa"]["left"]
    assert found["1961-"]["left"] < found["-04"]["left"]
