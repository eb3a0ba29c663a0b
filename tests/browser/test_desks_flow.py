"""In Chromium with JavaScript off, against the real server: a family chooses two of three
desks; both desks' reviewers read, triage and answer it independently; one refers it to the
third desk (the family consented) and the family sees both replies and the referral; a case
the third desk was not given shows nothing to its reviewer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.family import send, skip_the_code, take_a_code
from tests.browser.test_review_flow import totp_code
from tests.live import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, LiveServer, initialise, start

pytestmark = pytest.mark.browser

_ADD_DESKS = """
import sys
from intake import create_app
from intake.desk.setup import add_desk
from intake.store import instance_config
from intake.store.settings import render_desk_roots
admin_passphrase, reviewer_passphrase = sys.stdin.read().splitlines()
settings = create_app().extensions["intake.settings"]
roots = {}
for desk_id, en, fa, does_en, does_fa in (
        ("b", "Justice for Iran desk", "میز عدالت برای ایران",
         "Documents executions for legal cases.", "اعدام‌ها را برای پرونده‌های حقوقی ثبت می‌کند."),
        ("c", "Mothers of Khavaran desk", "میز مادران خاوران",
         "Keeps the names of the buried.", "نام خاک‌سپردگان را نگه می‌دارد.")):
    made = add_desk(settings, desk_id, {"en": en, "fa": fa}, {"en": does_en, "fa": does_fa},
                    [(desk_id + "-admin", "admin", admin_passphrase),
                     (desk_id + "-reviewer", "reviewer", reviewer_passphrase)])
    roots[desk_id] = made.root_text
instance_config.update(settings.instance_path, {"DESK_ROOTS": render_desk_roots(roots)})
"""
NAME = "مریم احمدی"


@pytest.fixture(scope="module")
def coalition_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server of an instance with desks main, b and c, a reviewer at each."""
    root = tmp_path_factory.mktemp("coalition")
    env = initialise(root, reviewers=("reviewer",))
    subprocess.run([sys.executable, "-c", _ADD_DESKS],
                   input=f"{ADMIN_PASSPHRASE}\n{REVIEWER_PASSPHRASE}".encode(), env=env,
                   check=True, capture_output=True, timeout=120, cwd=root)
    server = start(root, env, workers=2)
    yield server
    server.stop()


def log_in(page: Page, server: LiveServer, name: str) -> None:
    page.goto(server.url + "/review/login")
    page.fill("[name=name]", name)
    page.fill("[name=passphrase]", REVIEWER_PASSPHRASE)
    page.fill("[name=code]", totp_code(server, name))
    page.click("button[type=submit]")
    page.wait_for_load_state()  # the page the login opens, loaded before it is read


def test_the_desk_choice_on_the_form_in_persian_and_english(
        coalition_server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    """Screenshots of the choice at 360 and 1280 px, for a person to look at."""
    for lang in ("fa", "en"):
        for width in (360, 1280):
            page = new_page(viewport={"width": width, "height": 900})
            skip_the_code(page, f"{coalition_server.url}/submit?lang={lang}")
            choice = page.locator("fieldset.desks")
            assert choice.locator("input[type=checkbox]").count() == 3
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            choice.scroll_into_view_if_needed()
            choice.screenshot(path=str(output_dir / f"desks-choice-{lang}-{width}.png"))


def test_two_of_three_desks_triage_and_reply_independently_and_one_refers_to_the_third(
        coalition_server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    family = new_page()
    code = take_a_code(family, coalition_server.url + "/submit?lang=en")
    family.check("#desk-b")
    family.check("#desk-c")
    family.check("input[name=consent_internal]")
    family.check("input[name=consent_coalition]")
    family.fill("[name=name]", NAME)
    family.select_option("select[name=relationship]", "mother")
    family.fill("[name=testimony]", "در مرداد ۱۳۶۷ ملاقات قطع شد.")
    send(family)
    assert family.locator("p.error, .error-summary").count() == 0, family.content()[:2000]

    for name, status in (("b-reviewer", "corroborated"), ("c-reviewer", "awaiting_family")):
        page = new_page(viewport={"width": 1280, "height": 900})
        log_in(page, coalition_server, name)
        page.click(f"text={NAME}")
        case_url = page.url
        page.select_option("select[name=status]", status)
        page.fill("input[name=labels]", f"label-{name}")
        with page.expect_navigation():
            page.click("form[action$='/triage'] button")
        page.goto(case_url)
        assert page.input_value("select[name=status]") == status
        assert page.input_value("input[name=labels]") == f"label-{name}"
        other = "c-reviewer" if name == "b-reviewer" else "b-reviewer"
        assert f"label-{other}" not in page.content()
        page.fill("form[action$='/reply'] textarea", f"reply from {name}")
        with page.expect_navigation():
            page.click("form[action$='/reply'] button")
        if name == "b-reviewer":  # b refers the case to the third desk, as the family allowed
            page.select_option("select[name=desk]", "main")
            with page.expect_navigation():
                page.click("form.refer button")

    family.goto(coalition_server.url + "/followup?lang=en")
    family.fill("textarea[name=code]", code)
    family.click("button[type=submit]")
    status = family.content()
    assert "reply from b-reviewer" in status
    assert "reply from c-reviewer" in status
    assert "From Justice for Iran desk" in status
    assert "Shared with them by Justice for Iran desk, as you allowed" in status
    family.screenshot(path=str(output_dir / "desks-followup-en.png"), full_page=True)


def test_the_third_desk_sees_nothing_of_a_case_it_was_not_given(
        coalition_server: LiveServer, new_page: Callable[..., Page]) -> None:
    """A case for b and c only (no consent to share): main's reviewer finds nothing of it
    and gets 404 at its address."""
    family = new_page()
    skip_the_code(family, coalition_server.url + "/submit?lang=fa")
    family.check("#desk-b")
    family.check("#desk-c")
    family.check("input[name=consent_internal]")
    family.fill("[name=name]", "فرهاد نوری")
    family.select_option("select[name=relationship]", "son")
    family.fill("[name=testimony]", "پدرم در ۱۳۶۷ ناپدید شد.")
    send(family)
    b = new_page(viewport={"width": 1280, "height": 900})
    log_in(b, coalition_server, "b-reviewer")
    b.click("text=فرهاد نوری")
    case_url = b.url
    third = new_page(viewport={"width": 1280, "height": 900})
    log_in(third, coalition_server, "reviewer")
    assert third.url.endswith("/review/"), third.content()[:3000]
    assert "فرهاد نوری" not in third.content()
    third.fill("input[name=q]", "نوری")
    third.click("form.filters button[type=submit]")
    assert "فرهاد نوری" not in third.content()
    response = third.goto(case_url)
    assert response is not None
    assert response.status == 404
