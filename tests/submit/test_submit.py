"""The testimony form through the test client: storing, encrypting, refusing bad input."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from intake.store.models import Attachment, PendingFile, Submission
from tests.submit.conftest import (
    MARKER,
    csrf_and_nonce,
    filled_form,
    gps_jpeg,
    marker_file,
    post_form,
    read_everything,
)


def stored_rows(app: Flask) -> tuple[int, int]:
    from intake.web.database import get_session

    with app.app_context():
        session = get_session()
        return session.query(Submission).count(), session.query(Attachment).count()


def store_files(app: Flask) -> list[str]:
    return sorted(p.name for p in app.extensions["intake.desk"].store.root.iterdir())


def pending_blobs(app: Flask) -> list[str]:
    """Return the blobs of files kept for forms not yet accepted."""
    from intake.web.database import get_session

    with app.app_context():
        return sorted(row.blob for row in get_session().query(PendingFile))


def test_form_page_has_every_section_and_a_one_time_nonce(client: FlaskClient) -> None:
    start = csrf_and_nonce(client)
    page = client.post("/submit/form", data=start | {"no_code": "1"}).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert page.count("<section>") == 8
    assert 'enctype="multipart/form-data"' in page
    first, second = csrf_and_nonce(client), csrf_and_nonce(client)
    assert first["form_nonce"] != second["form_nonce"]


def test_a_persian_testimony_is_stored_encrypted_and_reads_back(app: Flask,
                                                                client: FlaskClient) -> None:
    document = marker_file(700_000)
    response = post_form(client, filled_form(), [("گواهی.pdf", document),
                                                 ("photo.jpg", gps_jpeg())])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', page)
    assert code
    assert len(code.group(1).split()) == 8
    [stored] = read_everything(app)
    assert stored["answers"]["name"] == f"علی رضایی {MARKER}"
    assert stored["answers"]["death_date"]["earliest"] == "1988-07-23"
    assert stored["answers"]["death_date"]["text"] == "مرداد ۱۳۶۷"
    pdf, photo = sorted(stored["files"], key=lambda f: f["meta"]["filename"])[::-1]
    assert pdf["content"] == document
    assert pdf["meta"]["sha256_received"] == hashlib.sha256(document).hexdigest()
    assert photo["meta"]["scrubbed"] is True
    assert photo["meta"]["sha256_received"] == hashlib.sha256(gps_jpeg()).hexdigest()
    clean = Image.open(io.BytesIO(photo["content"]))
    assert clean.size == (32, 64)
    assert not clean.getexif()
    assert b"CameraMaker" not in photo["content"]


def test_the_photo_of_the_person_is_kept_apart_and_scrubbed(app: Flask,
                                                            client: FlaskClient) -> None:
    post_form(client, filled_form(), [("a.txt", b"letter")], photo=gps_jpeg())
    [stored] = read_everything(app)
    roles = {f["meta"]["role"]: f for f in stored["files"]}
    assert set(roles) == {"photo", "attachments"}
    assert roles["photo"]["meta"]["scrubbed"] is True
    assert b"CameraMaker" not in roles["photo"]["content"]


def test_stored_blobs_carry_only_the_day_as_their_time(app: Flask, client: FlaskClient) -> None:
    post_form(client, filled_form(), [("a.txt", b"letter")])
    for path in app.extensions["intake.desk"].store.root.iterdir():
        assert int(path.stat().st_mtime) % 86400 == 0


def test_originals_are_kept_when_the_family_asks(app: Flask, client: FlaskClient) -> None:
    original = gps_jpeg()
    post_form(client, filled_form(keep_originals="y"), [("photo.jpg", original)])
    [stored] = read_everything(app)
    assert stored["files"][0]["content"] == original
    assert stored["files"][0]["meta"]["scrubbed"] is False


def test_nothing_on_disk_holds_the_plaintext(app: Flask, client: FlaskClient) -> None:
    post_form(client, filled_form(), [("a.txt", marker_file(2_000_000)), ("b.jpg", gps_jpeg())])
    settings = app.extensions["intake.settings"]
    needles = [MARKER.encode(), MARKER.encode("utf-16-le"), "علی رضایی".encode()]
    for folder in (settings.instance_path, settings.keys_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(needle in data for needle in needles), path


def test_stored_blobs_have_padded_sizes_and_random_names(app: Flask, client: FlaskClient) -> None:
    from intake.crypto import ciphertext_size

    post_form(client, filled_form(keep_originals="y"), [("notes.txt", b"x" * 5000)])
    [name] = store_files(app)
    assert re.fullmatch(r"[0-9a-f]{32}", name)
    size = (app.extensions["intake.desk"].store.root / name).stat().st_size
    assert size == ciphertext_size(5000) == ciphertext_size(5100)


def test_a_submission_without_a_code_stores_no_family_key(app: Flask,
                                                          client: FlaskClient) -> None:
    response = post_form(client, filled_form(code=""))
    assert 'class="code"' not in response.get_data(as_text=True)
    [stored] = read_everything(app)
    assert stored["row"].family_lookup is None
    assert stored["row"].family_key is None


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"testimony": ""}, "testimony", "لطفاً شهادت خود را بنویسید"),
    ({"name": "", "name_unknown": None}, "name", "نام او را بنویسید"),
    ({"consent_internal": None, "consent_un": None}, "consent", "دست‌کم یک"),
    ({"relationship": ""}, "relationship", "یکی را انتخاب کنید"),
])
def test_invalid_answers_are_marked_in_persian_and_typed_text_is_kept(
        app: Flask, client: FlaskClient, changes: dict[str, str | None], field: str,
        message: str) -> None:
    response = post_form(client, filled_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "خاوران" in page
    assert "اوین، گوهردشت" in page
    assert stored_rows(app) == (0, 0)


def test_an_invalid_form_in_english_gets_english_messages(client: FlaskClient) -> None:
    response = post_form(client, filled_form(testimony=""), lang="en")
    assert "Please write your testimony, even briefly." in response.get_data(as_text=True)


def test_resending_the_same_form_stores_it_once(app: Flask, client: FlaskClient) -> None:
    payload = csrf_and_nonce(client) | filled_form()
    assert client.post("/submit", data=payload).status_code == 200
    again = client.post("/submit", data=payload)
    assert again.status_code == 409
    # Reloading the receipt sends the form again: the family sees its own code again.
    assert f'<p class="code" lang="fa">{payload["code"]}</p>' in again.get_data(as_text=True)
    assert stored_rows(app) == (1, 0)


def test_the_done_page_shows_no_code(client: FlaskClient) -> None:
    post_form(client, filled_form())
    page = client.get("/submit/done").get_data(as_text=True)
    assert 'class="code"' not in page
