"""Bad input: a clear error, no 500, no partial record, no leftover file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from wtforms import FormField, SelectField
from wtforms.fields.core import UnboundField

from intake import create_app
from intake.store.blobs import Store
from intake.store.live_settings import save
from intake.testimonies.uploads import FileTooLarge, UploadBatch
from intake.web import testimony_form as forms
from intake.web.database import get_session
from intake.web.security import HEADERS
from tests.conftest import Instance
from tests.submit.conftest import MARKER, csrf_and_nonce, filled_form, hidden, post_form
from tests.submit.test_submit import store_files, stored_rows


def assert_nothing_stored(app: Flask) -> None:
    assert stored_rows(app) == (0, 0)
    assert store_files(app) == []


def selects(form: type) -> list[tuple[str, UnboundField]]:
    return [(name, field) for name, field in vars(form).items()
            if isinstance(field, UnboundField) and field.field_class in (SelectField, FormField)]


def every_select() -> list[str]:
    """The posted name of every select in the testimony form, those inside dates included."""
    names = []
    for name, field in selects(forms.TestimonyForm):
        if field.field_class is FormField:
            names += [f"{name}-{part}" for part, _ in selects(forms.DateAnswerForm)]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("name", every_select())
def test_a_bogus_choice_gets_a_persian_message_and_keeps_what_was_typed(
        app: Flask, client: FlaskClient, name: str) -> None:
    answers = filled_form(**{name: "bogus", "told_date-text": "۱۳۶۷"})
    response = post_form(client, answers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "انتخاب درستی نیست" in page
    assert "۱۵ فروردین ۱۳۶۶" in page
    assert "خاوران" in page
    assert_nothing_stored(app)


def test_every_select_of_the_form_is_tried_with_a_bogus_choice() -> None:
    assert {"relationship", "sex", "inside_country", "arrest_date-calendar",
            "death_date-precision"} <= set(every_select())
    assert len(every_select()) == 15


def test_an_upload_over_the_limit_gets_413_in_persian(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        save(get_session(), {"upload_limit_mib": "1"})
        get_session().commit()
    response = post_form(client, filled_form(), [("big.bin", b"x" * 1_500_000)])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "بزرگ‌تر از حدی است" in page
    assert response.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
    assert_nothing_stored(app)


def test_one_file_over_the_per_file_limit_is_refused_as_it_arrives(tmp_path: Path) -> None:
    batch = UploadBatch(Store(tmp_path), file_limit=100, max_files=20)
    upload = batch.new_upload()
    upload.write(b"x" * 100)
    with pytest.raises(FileTooLarge):
        upload.write(b"x")


def test_the_per_file_limit_follows_the_admins_upload_limit(instance: Instance) -> None:
    app = create_app(dict(instance.config, MAX_CONTENT_LENGTH=2**20))
    with app.app_context():
        save(get_session(), {"upload_limit_mib": "3"})
        get_session().commit()
    response = post_form(app.test_client(), filled_form(), [("big.bin", b"x" * 2_000_000)])
    assert response.status_code == 200
    assert stored_rows(app) == (1, 1)


def test_a_form_from_another_site_gets_the_expired_page_and_nothing_it_sent(
        app: Flask, client: FlaskClient) -> None:
    """Another site posts a code of its choosing: it must not come back with a valid token."""
    payload = csrf_and_nonce(client) | filled_form() | {"csrf_token": "forged"}
    for site in ({"Sec-Fetch-Site": "cross-site"}, {}):
        payload["attachments"] = [(io.BytesIO(b"secret file"), "a.txt")]
        response = client.post("/submit", data=payload, headers=site,
                               content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "این فرم منقضی شده" in page
        assert payload["code"] not in page
        assert 'name="csrf_token"' not in page
    assert_nothing_stored(app)


def test_an_expired_form_comes_back_with_what_was_typed_its_file_and_a_fresh_token(
        app: Flask, client: FlaskClient) -> None:
    """Reload after the token expired: the typed text, the code and the file are all kept."""
    payload = csrf_and_nonce(client) | filled_form() | {"csrf_token": "expired"}
    payload["attachments"] = [(io.BytesIO(b"secret file"), "a.txt")]
    response = client.post("/submit", data=payload, headers={"Sec-Fetch-Site": "same-origin"},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MARKER in page
    assert payload["code"] in page
    assert "a.txt" in page
    fresh = hidden(page, "csrf_token")
    assert fresh != "expired"
    assert stored_rows(app) == (0, 0)
    again = filled_form() | {name: hidden(page, name) for name in
                             ("csrf_token", "form_nonce", "code", "files_key")}
    assert client.post("/submit", data=again,
                       content_type="multipart/form-data").status_code == 200
    assert stored_rows(app) == (1, 1)


def test_an_unknown_field_is_refused(app: Flask, client: FlaskClient) -> None:
    response = post_form(client, filled_form(smuggled="x"), [("a.txt", b"data")])
    assert response.status_code == 400
    assert_nothing_stored(app)


def test_a_file_in_an_unknown_field_is_refused(app: Flask, client: FlaskClient) -> None:
    payload = csrf_and_nonce(client) | filled_form()
    payload["portrait"] = (io.BytesIO(b"data"), "a.txt")
    response = client.post("/submit", data=payload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert_nothing_stored(app)


def test_too_many_parts_are_refused(app: Flask, client: FlaskClient) -> None:
    payload = csrf_and_nonce(client) | filled_form()
    payload["prisons"] = [f"prison {i}" for i in range(250)]
    response = client.post("/submit", data=payload, content_type="multipart/form-data")
    assert response.status_code == 413
    assert_nothing_stored(app)


def test_too_many_files_are_refused(app: Flask, client: FlaskClient) -> None:
    response = post_form(client, filled_form(), [(f"{i}.txt", b"x") for i in range(21)])
    assert response.status_code == 400
    assert_nothing_stored(app)


@pytest.mark.parametrize("body", [
    b"--b\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a\"\r\n\r\nab",
    b"not multipart at all",
    b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
])
def test_a_malformed_multipart_body_gets_a_clear_error(app: Flask, client: FlaskClient,
                                                       body: bytes) -> None:
    csrf_and_nonce(client)
    response = client.post("/submit", data=body,
                           content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)
    assert_nothing_stored(app)


def test_a_full_disk_refuses_new_testimony_and_keeps_the_old(app: Flask,
                                                             client: FlaskClient) -> None:
    assert post_form(client, filled_form()).status_code == 200
    payload = csrf_and_nonce(client) | filled_form()
    payload["attachments"] = [(io.BytesIO(b"new file"), "new.txt")]
    app.extensions["intake.uploads"].disk_floor = 10**18
    for response in (client.get("/submit"), client.post("/submit", data=payload)):
        assert response.status_code == 507
        assert "حافظهٔ" in response.get_data(as_text=True)
    assert stored_rows(app) == (1, 0)
    assert store_files(app) == []


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", "/submit"), ("GET", "/submit/done"), ("POST", "/submit"),
    ("GET", "/nowhere"), ("PUT", "/submit"), ("GET", "/followup"), ("GET", "/followup/"),
    ("POST", "/followup/"), ("POST", "/followup/add"), ("GET", "/followup/add"),
])
def test_every_family_route_carries_the_headers(client: FlaskClient, method: str,
                                                path: str) -> None:
    response = client.open(path, method=method)
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value
