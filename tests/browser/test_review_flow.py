"""A family submits; a vetted reviewer unlocks, finds, reads, triages and answers, in Chromium."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from playwright.sync_api import Page

from tests.browser.family import send, take_a_code
from tests.browser.test_submit_flow import assert_marker_nowhere
from tests.live import REVIEWER_PASSPHRASE, LiveServer
from tests.submit.conftest import MARKER, marker_file

pytestmark = pytest.mark.browser
WORD = "گلدان‌فروشی"


# The server takes the code of the current 30-second step or of one step either side, and
# each step once per account (intake/staff/accounts.py totp_step). Someone who logs in again within
# a step types the next step's code, as that window allows, rather than waiting for it.
STEP = 30
MARGIN = 10  # seconds a code must stay inside the window, to reach the server in time


def earliest_code(secret: bytes, spent: int) -> str:
    """The code of the earliest step after `spent` the server takes now and MARGIN s from now;
    wait only while every such step is still ahead of the window."""
    while True:
        now = time.time()
        step = max(spent + 1, int((now + MARGIN) // STEP) - 1)
        if step <= now // STEP + 1:
            return TOTP(secret, 6, SHA1(), STEP).generate(step * STEP).decode()  # noqa: S303
        time.sleep((step - 1) * STEP - now)


def totp_code(server: LiveServer, name: str) -> str:
    """A code from the user's TOTP secret in the live database, as their authenticator holds it,
    for a step they have not spent yet."""
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    secret, last_step = database.execute(
        "select totp_secret, totp_last_step from users where name = ?", (name,)).fetchone()
    database.close()
    return earliest_code(secret, last_step)


def family_submits(page: Page, server: LiveServer, document: Path) -> str:
    code = take_a_code(page, server.url + "/submit")
    page.check("input[name=consent_internal]")
    page.fill("[name=name]", f"زهرا کریمی {MARKER}")
    page.select_option("select[name=relationship]", "daughter")
    page.fill("[name=testimony]", f"پدرم در {WORD} کار می‌کرد. {MARKER}")
    page.set_input_files("input[name=attachments]", str(document))
    send(page)
    assert page.inner_text("p.code") == code
    return code


def test_a_reviewer_finds_reads_and_answers_a_testimony(
        live_server: LiveServer, new_page: Callable[..., Page], tmp_path: Path,
        output_dir: Path) -> None:
    document = tmp_path / "letter.bin"
    document.write_bytes(marker_file(1_500_000))
    code = family_submits(new_page(), live_server, document)

    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/review/login")
    page.fill("[name=name]", "reviewer")
    page.fill("[name=passphrase]", REVIEWER_PASSPHRASE)
    page.fill("[name=code]", totp_code(live_server, "reviewer"))
    page.click("button[type=submit]")
    page.wait_for_load_state()  # else the count below could read the login page still
    assert page.locator("form[action$='/review/logout']").count() == 1  # logged in
    assert page.locator("a[href$='/admin/']").count() == 0  # a reviewer, not an admin
    page.fill("input[name=q]", WORD.replace("ی", "ي"))
    page.click("form.filters button[type=submit]")
    page.click("text=زهرا کریمی")
    page.screenshot(path=str(output_dir / "review-case.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=letter.bin")
    assert Path(download.value.path()).read_bytes() == document.read_bytes()

    page.select_option("select[name=status]", "in_triage")
    page.fill("input[name=labels]", "۱۳۶۷, پدر")
    # Each form posts and redirects back: wait for that page before acting on it.
    with page.expect_navigation():
        page.click("form[action*='/triage'] button")
    page.reload()
    assert page.input_value("select[name=status]") == "in_triage"
    status_label = page.locator("select[name=status] option:checked").inner_text().strip()
    summary = page.locator("p", has_text=status_label).first.inner_text()
    assert "۱۳۶۷" in summary
    assert "پدر" in summary
    assert "۱۳۶۷" in page.input_value("input[name=labels]")
    page.fill("textarea[name=text] >> nth=0", "باید با خانواده تماس گرفت")
    with page.expect_navigation():
        page.click("form[action*='/note'] button")
    page.fill("form[action*='/reply'] textarea", "شهادت شما را خواندیم")
    with page.expect_navigation():
        page.click("form[action*='/reply'] button")
    assert "باید با خانواده تماس گرفت" in page.content()

    family = new_page()
    family.goto(live_server.url + "/followup")
    family.fill("textarea[name=code]", code)
    family.click("button[type=submit]")
    assert "شهادت شما را خواندیم" in family.content()
    assert "باید با خانواده" not in family.content()

    page.click("button.link")
    assert page.url.endswith("/review/login")
    database = sqlite3.connect(live_server.instance / "intake.sqlite3")
    assert database.execute("select count(*) from review_sessions").fetchone() == (0,)
    database.close()
    page.goto(live_server.url + "/review/")
    assert page.url.endswith("/review/login")
    assert_marker_nowhere(live_server, "زهرا کریمی", WORD, "باید با خانواده تماس گرفت",
                          "شهادت شما را خواندیم", "پدر")
