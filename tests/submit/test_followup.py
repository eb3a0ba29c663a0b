"""Follow-up with the code: outline, additions to the same case, the same answer for wrong codes."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.dates import format_day
from intake.store.live_settings import save
from intake.testimonies import submissions
from intake.testimonies.codes import MAX_CODE_CHARS
from intake.web.database import get_session
from tests.submit.conftest import filled_form, post_form, read_everything


def submit_and_get_code(client: FlaskClient, files: list[tuple[str, bytes]] = ()) -> str:
    page = post_form(client, filled_form(), files).get_data(as_text=True)
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', page)
    assert code
    return code.group(1)


def csrf(client: FlaskClient, path: str = "/followup") -> str:
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return token.group(1)


def open_case(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return client.post("/followup/", data={"csrf_token": csrf(client), "code": code})


def test_the_code_opens_an_outline_but_never_the_testimony(client: FlaskClient) -> None:
    code = submit_and_get_code(client, [("a.txt", b"one"), ("b.txt", b"two")])
    page = open_case(client, code).get_data(as_text=True)
    # Counts in Persian digits on a Persian page (they were Latin "2").
    assert "<dd>۲</dd>" in page
    # The received day in the Solar Hijri calendar and Persian digits, as the family reads.
    assert f"<dd>{format_day(dt.datetime.now(dt.UTC).date(), 'fa')}</dd>" in page
    assert dt.datetime.now(dt.UTC).date().isoformat() not in page
    assert "علی رضایی" not in page
    assert "تابستان ۱۳۶۷" not in page


@pytest.mark.parametrize("change", [
    lambda code: code.upper(), lambda code: "  " + code.replace(" ", "   ") + "\n",
    lambda code: code.replace("ی", "ي").replace("ک", "ك"),
])
def test_a_code_copied_by_hand_still_opens_the_case(client: FlaskClient, change) -> None:  # type: ignore[no-untyped-def]
    code = submit_and_get_code(client)
    assert "<dl class=\"outline\">" in open_case(client, change(code)).get_data(as_text=True)


def test_a_family_adds_information_and_a_file_to_the_same_case(app: Flask,
                                                                client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    page = open_case(client, code).get_data(as_text=True)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert nonce
    assert token
    response = client.post("/followup/add", content_type="multipart/form-data", data={
        "csrf_token": token.group(1), "code": code, "form_nonce": nonce.group(1),
        "addition": "نامهٔ دادستانی پیدا شد", "attachments": [(io.BytesIO(b"letter"), "l.txt")]})
    assert response.status_code == 200
    case, addition = sorted(read_everything(app), key=lambda s: s["row"].parent_id or "")
    assert addition["row"].parent_id == case["row"].id
    assert addition["answers"] == {"addition": "نامهٔ دادستانی پیدا شد"}
    assert addition["files"][0]["content"] == b"letter"
    assert "<dd>۱</dd>" in open_case(client, code).get_data(as_text=True)


def test_an_addition_with_a_wrong_code_is_refused_and_not_stored(app: Flask,
                                                                 client: FlaskClient) -> None:
    submit_and_get_code(client)
    response = client.post("/followup/add", content_type="multipart/form-data", data={
        "csrf_token": csrf(client), "code": "wrong words", "addition": "x",
        "attachments": [(io.BytesIO(b"letter"), "l.txt")]})
    assert "<dl" not in response.get_data(as_text=True)
    assert len(read_everything(app)) == 1
    assert len(list(app.extensions["intake.desk"].store.root.iterdir())) == 0


def test_every_wrong_code_does_the_same_work_and_gets_the_same_page(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    submit_and_get_code(client)
    derived: list[str] = []
    real = submissions.derive_family_key
    monkeypatch.setattr(submissions, "derive_family_key",
                        lambda code, *args: derived.append(code) or real(code, *args))
    pages = []
    for typed in ("x", "سیب سیب سیب سیب سیب سیب سیب سیب", "9" * 300, "9" * 401,
                  "سیب " * 5000):
        response = open_case(client, typed)
        pages.append((response.status_code, re.sub(r'value="[^"]*"|<textarea[^>]*>[^<]*',
                                                    "", response.get_data(as_text=True))))
    assert len(derived) == 5
    assert all(len(code) <= MAX_CODE_CHARS for code in derived)
    assert pages[0][0] == 200
    assert all(page == pages[0] for page in pages)


def test_a_code_that_is_right_but_followed_by_more_does_not_open_the_case(
        client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    page = open_case(client, code + " x" * MAX_CODE_CHARS).get_data(as_text=True)
    assert "<dl" not in page


def status_form(client: FlaskClient, code: str) -> dict[str, str]:
    page = open_case(client, code).get_data(as_text=True)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert nonce
    assert token
    return {"csrf_token": token.group(1), "code": code, "form_nonce": nonce.group(1)}


def test_a_refused_file_type_is_named_and_the_addition_kept_but_not_stored(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    with app.app_context():
        save(get_session(), {"accepted_types": "pdf, jpg"})
        get_session().commit()
    response = client.post("/followup/add", content_type="multipart/form-data", data=status_form(
        client, code) | {"addition": "نامهٔ دادستانی پیدا شد",
                         "attachments": [(io.BytesIO(b"macro"), "letter.docm")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "این نوع فایل‌ها در اینجا پذیرفته نمی‌شوند: letter.docm" in page
    assert "نامهٔ دادستانی پیدا شد</textarea>" in page
    assert '<dl class="outline">' in page
    assert len(read_everything(app)) == 1
    assert len(list(app.extensions["intake.desk"].store.root.iterdir())) == 0


def test_an_addition_over_the_limit_gets_a_persian_message_and_is_kept(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    addition = "شهادت " * 20_000
    response = client.post("/followup/add", content_type="multipart/form-data",
                           data=status_form(client, code) | {"addition": addition})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "طول فیلد حداکثر باید 100000 حرف باشد" in page
    assert addition in page
    assert len(read_everything(app)) == 1


def test_the_status_page_shows_nothing_without_a_code(client: FlaskClient) -> None:
    response = client.get("/followup/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/followup")


def test_an_expired_code_page_sent_from_our_own_page_comes_back_with_the_typed_code(
        client: FlaskClient) -> None:
    """It got the plain expired-form page, and the family typed its seven words again."""
    code = submit_and_get_code(client)
    back = client.post("/followup/", data={"csrf_token": "old", "code": code},
                       headers={"Sec-Fetch-Site": "same-origin"})
    page = back.get_data(as_text=True)
    assert back.status_code == 400
    assert f"{code}</textarea>" in page
    assert "زمان این صفحه گذشته بود. کدی را که نوشته بودید نگه داشته‌ایم" in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    again = client.post("/followup/", data={"csrf_token": token.group(1), "code": code})
    assert '<dl class="outline">' in again.get_data(as_text=True)


@pytest.mark.parametrize("site", [{"Sec-Fetch-Site": "cross-site"}, {}])
def test_an_expired_code_page_from_another_site_hands_back_no_code_and_no_token(
        client: FlaskClient, site: dict[str, str]) -> None:
    """Another site must not have a code of its choosing handed back with a valid token."""
    back = client.post("/followup/", data={"csrf_token": "old", "code": "سیب انار"},
                       headers=site)
    page = back.get_data(as_text=True)
    assert back.status_code == 400
    assert "این فرم منقضی شده" in page
    assert "سیب انار" not in page
    assert 'name="csrf_token"' not in page
