"""Refusals on admin, enrolment and account pages are shown in the page's language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin.conftest import enrol, invite_link
from tests.review.conftest import log_in, page_token

SAME = "aaaaaaaaaaaaaaaa"  # long enough, but too few different characters
TOO_FEW = {"fa": "عبارت عبور باید نویسه‌های گوناگون بیشتری داشته باشد",
           "en": "a passphrase needs more different characters"}
TAKEN = {"fa": "کاربری به نام reviewer از پیش وجود دارد",
         "en": "there is already a user called reviewer"}
INVALID = {"fa": "این فرم پذیرفته نشد: یکی از فیلدها خالی، بیش از حد بلند یا نامعتبر است.",
           "en": "That form was not accepted: a field is empty, too long or not valid."}
LANGUAGES = ["fa", "en"]


def other(messages: dict[str, str], lang: str) -> str:
    """The same message in the language the page is not in."""
    return next(text for code, text in messages.items() if code != lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_weak_passphrase_at_enrolment_is_refused_in_the_page_language(
        app: Flask, admin: FlaskClient, lang: str) -> None:
    page = enrol(app, invite_link(admin, "weak"), SAME, lang=lang).get_data(as_text=True)
    assert TOO_FEW[lang] in page
    assert other(TOO_FEW, lang) not in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_inviting_a_taken_name_is_refused_in_the_page_language(admin: FlaskClient,
                                                               lang: str) -> None:
    token = page_token(admin, f"/admin/?lang={lang}")
    page = admin.post("/admin/invite", data={"csrf_token": token, "name": "reviewer",
                                             "role": "reviewer"}).get_data(as_text=True)
    assert TAKEN[lang] in page
    assert other(TAKEN, lang) not in page


@pytest.mark.parametrize("path", ["/admin/invite", "/admin/settings"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_invalid_admin_form_is_explained_in_the_page_language(admin: FlaskClient, lang: str,
                                                                 path: str) -> None:
    token = page_token(admin, f"/admin/?lang={lang}")
    page = admin.post(path, data={"csrf_token": token, "name": "", "role": "reviewer",
                                  "organisation_name": ""}).get_data(as_text=True)
    assert INVALID[lang] in page
    assert ">invalid<" not in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_weak_new_passphrase_is_refused_in_the_page_language(
        app: Flask, client: FlaskClient, lang: str) -> None:
    from tests.conftest import REVIEWER_PASSPHRASE

    assert log_in(app, client).status_code == 302
    token = page_token(client, f"/review/passphrase?lang={lang}")
    page = client.post("/review/passphrase", data={
        "csrf_token": token, "current": REVIEWER_PASSPHRASE, "new": SAME,
        "confirm": SAME}).get_data(as_text=True)
    assert TOO_FEW[lang] in page
    assert other(TOO_FEW, lang) not in page


def test_inviting_a_name_no_account_can_have_is_refused_before_any_link_is_made(
        app: Flask, admin: FlaskClient) -> None:
    from intake.store.models import Invite
    from intake.web.database import get_session

    token = page_token(admin, "/admin/?lang=en")
    page = admin.post("/admin/invite", data={"csrf_token": token, "name": "Sima Rahimi!",
                                             "role": "reviewer"}).get_data(as_text=True)
    assert "a user name is 2-64 of a-z, 0-9" in page
    assert "/enrol/" not in page
    with app.app_context():
        assert get_session().query(Invite).count() == 0
