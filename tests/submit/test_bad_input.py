"""Bad input: a clear error, no 500, no partial record, no leftover file."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.security import HEADERS
from tests.submit.conftest import csrf_and_nonce, filled_form, post_form
from tests.submit.test_submit import store_files, stored_rows


def assert_nothing_stored(app: Flask) -> None:
    assert stored_rows(app) == (0, 0)
    assert store_files(app) == []


def test_an_upload_over_the_limit_gets_413_in_persian(app: Flask, client: FlaskClient) -> None:
    from intake.db import get_session
    from intake.live_settings import save

    with app.app_context():
        save(get_session(), {"upload_limit_mib": "1"})
        get_session().commit()
    response = post_form(client, filled_form(), [("big.bin", b"x" * 1_500_000)])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "بزرگ‌تر از حدی است" in page
    assert response.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
    assert_nothing_stored(app)


def test_one_file_over_the_per_file_limit_gets_413(app: Flask, client: FlaskClient) -> None:
    app.extensions["intake.uploads"]["file_limit"] = 100_000
    response = post_form(client, filled_form(), [("a.bin", b"x" * 150_000)])
    assert response.status_code == 413
    assert_nothing_stored(app)


def test_a_wrong_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    payload = csrf_and_nonce(client) | filled_form() | {"csrf_token": "forged"}
    payload["attachments"] = [(io.BytesIO(b"secret file"), "a.txt")]
    response = client.post("/submit", data=payload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "این فرم منقضی شده" in response.get_data(as_text=True)
    assert_nothing_stored(app)


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
    payload["attachments"] = [(io.BytesIO(b"x"), f"{i}.txt") for i in range(300)]
    response = client.post("/submit", data=payload, content_type="multipart/form-data")
    assert response.status_code in (400, 413)
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
    app.extensions["intake.disk_floor"] = 10**18
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
