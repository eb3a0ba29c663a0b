"""The organisation's name: set by an admin in Persian and English, shown in the page's language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.live_settings import LiveSettings
from tests.review.conftest import page_token

PERSIAN_NAME = "دادخواهی خانواده‌ها"
ENGLISH_NAME = "Families for Justice"


def save_names(admin: FlaskClient, english: str, persian: str) -> str:
    """Post the settings form with the two names; return the page that answers."""
    token = page_token(admin, "/admin/")
    answer = admin.post("/admin/settings", data={
        "csrf_token": token, "organisation_name": english, "organisation_name_fa": persian,
        "upload_limit_mib": "5", "accepted_types": ""}, follow_redirects=True)
    return answer.get_data(as_text=True)


def title_of(page: str) -> str:
    """The text of a page's <title>."""
    return page.split("<title>", 1)[1].split("</title>", 1)[0]


def test_persian_pages_show_the_persian_name_and_english_pages_the_english_one(
        app: Flask, admin: FlaskClient) -> None:
    save_names(admin, ENGLISH_NAME, PERSIAN_NAME)
    family = app.test_client()
    persian = family.get("/?lang=fa").get_data(as_text=True)
    english = family.get("/?lang=en").get_data(as_text=True)
    assert title_of(persian) == PERSIAN_NAME
    assert ENGLISH_NAME not in persian
    assert title_of(english) == ENGLISH_NAME
    assert PERSIAN_NAME not in english


@pytest.mark.parametrize(("english", "persian", "shown_fa", "shown_en"), [
    (ENGLISH_NAME, "", ENGLISH_NAME, ENGLISH_NAME),
    ("", PERSIAN_NAME, PERSIAN_NAME, PERSIAN_NAME),
])
def test_a_name_left_empty_in_one_language_falls_back_to_the_other(
        app: Flask, admin: FlaskClient, english: str, persian: str, shown_fa: str,
        shown_en: str) -> None:
    save_names(admin, english, persian)
    family = app.test_client()
    assert title_of(family.get("/?lang=fa").get_data(as_text=True)) == shown_fa
    assert title_of(family.get("/?lang=en").get_data(as_text=True)) == shown_en


def test_the_settings_form_shows_both_names_as_saved(admin: FlaskClient) -> None:
    page = save_names(admin, ENGLISH_NAME, PERSIAN_NAME)
    assert f'value="{ENGLISH_NAME}"' in page
    assert f'value="{PERSIAN_NAME}"' in page


@pytest.mark.parametrize(("lang", "message"), [
    ("fa", "نام سازمان را دست‌کم به یک زبان بنویسید."),
    ("en", "Write the organisation's name in at least one language."),
])
def test_both_names_empty_is_refused_and_the_old_names_stay(
        app: Flask, admin: FlaskClient, lang: str, message: str) -> None:
    save_names(admin, ENGLISH_NAME, PERSIAN_NAME)
    token = page_token(admin, f"/admin/?lang={lang}")
    page = admin.post("/admin/settings", data={
        "csrf_token": token, "organisation_name": " ", "organisation_name_fa": "",
        "upload_limit_mib": "5", "accepted_types": ""}).get_data(as_text=True)
    assert message in page
    assert title_of(app.test_client().get("/?lang=fa").get_data(as_text=True)) == PERSIAN_NAME


def test_before_any_admin_change_both_languages_show_the_configured_name(app: Flask) -> None:
    family = app.test_client()
    configured = app.extensions["intake.settings"].organisation_name
    assert title_of(family.get("/?lang=fa").get_data(as_text=True)) == configured
    assert title_of(family.get("/?lang=en").get_data(as_text=True)) == configured


def test_organisation_for_prefers_the_locale_then_the_other_language() -> None:
    both = LiveSettings("Desk", 5, (), organisation_name_fa="میز")
    assert (both.organisation_for("fa"), both.organisation_for("en")) == ("میز", "Desk")
    only_fa = LiveSettings("", 5, (), organisation_name_fa="میز")
    assert only_fa.organisation_for("en") == "میز"
