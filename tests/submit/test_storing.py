"""Storing under pressure: the same form sent twice at once, photos too large to clean."""

from __future__ import annotations

import io
import re
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from intake.testimonies import images, submissions
from intake.testimonies.images import scrub
from tests.submit.conftest import (
    AtOnce,
    csrf_and_nonce,
    filled_form,
    gps_jpeg,
    hidden,
    post_form,
    read_everything,
)
from tests.submit.test_submit import pending_blobs, store_files, stored_rows

# In English until the Persian catalogue holds this message.
TOO_LARGE = "is too large for us to remove location and device details from it"


def post_from_threads(app: Flask, payloads: list[dict[str, Any]],
                      cookie: str | None = None) -> list[int]:
    """Post each payload to /submit from its own thread and client; return the statuses."""
    statuses: list[int] = []

    def send(payload: dict[str, Any]) -> None:
        client = app.test_client()
        if cookie:
            client.set_cookie("intake_session", cookie)
        response = client.post("/submit", data=payload, content_type="multipart/form-data")
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_the_same_form_sent_twice_at_once_is_stored_once_with_its_file(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    form = csrf_and_nonce(client) | filled_form()
    cookie = client.get_cookie("intake_session")
    assert cookie
    both_checked = threading.Barrier(2, timeout=10)
    real_seal = submissions.seal_data_key

    def seal_after_both_checked(*args: Any, **kwargs: Any) -> bytes:
        both_checked.wait()  # both copies have found the nonce unused
        return real_seal(*args, **kwargs)

    monkeypatch.setattr(submissions, "seal_data_key", seal_after_both_checked)
    payloads = [form | {"attachments": [(io.BytesIO(b"letter"), "letter.txt")]}
                for _ in range(2)]
    assert post_from_threads(app, payloads, cookie.value) == [200, 409]
    assert stored_rows(app) == (1, 1)
    assert len(store_files(app)) == 1


@pytest.mark.parametrize(("module", "cap", "value"), [
    (images, "MAX_PIXELS", 64 * 32 - 1), (submissions, "MAX_SCRUB_BYTES", 100)])
def test_a_photo_too_large_to_clean_is_refused_by_name_and_kept_until_sent_as_it_is(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, module: object,
        cap: str, value: int) -> None:
    """Both files stay pending; ticking "keep originals" sends them without choosing again."""
    monkeypatch.setattr(module, cap, value)
    response = post_form(client, filled_form(), [("a.txt", b"letter"),
                                                  ("خانه.jpg", gps_jpeg())], lang="en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"The photo “<bdi>خانه.jpg</bdi>” {TOO_LARGE}" in page
    assert "خاوران" in page
    assert stored_rows(app) == (0, 0)
    assert len(pending_blobs(app)) == 2
    assert store_files(app) == pending_blobs(app)
    again = filled_form(keep_originals="y") | {
        name: hidden(page, name) for name in ("csrf_token", "form_nonce", "code", "files_key")}
    assert client.post("/submit", data=again,
                       content_type="multipart/form-data").status_code == 200
    [stored] = read_everything(app)
    assert [f["content"] for f in stored["files"]] == [b"letter", gps_jpeg()]
    assert pending_blobs(app) == []


def test_a_photo_too_large_to_clean_is_stored_as_sent_when_the_family_keeps_originals(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    response = post_form(client, filled_form(keep_originals="y"), [("home.jpg", gps_jpeg())])
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert stored["files"][0]["content"] == gps_jpeg()


def test_a_large_file_that_is_not_a_photo_is_stored_whatever_the_cap(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submissions, "MAX_SCRUB_BYTES", 100)
    response = post_form(client, filled_form(), [("notes.txt", b"n" * 5000)])
    assert response.status_code == 200
    assert stored_rows(app) == (1, 1)


def test_no_more_photos_are_cleaned_at_once_than_the_limit(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    at_once = AtOnce()

    def slow_scrub(source: io.BytesIO) -> tuple[bytes, str]:
        at_once.hold(0.2)
        return scrub(source)

    monkeypatch.setattr(submissions, "scrub", slow_scrub)
    monkeypatch.setattr(submissions, "_SCRUB_SLOTS", threading.BoundedSemaphore(1))
    payloads = []
    for _ in range(3):
        payload = csrf_and_nonce(client) | filled_form(code="")
        payloads.append(payload | {"attachments": [(io.BytesIO(gps_jpeg()), "p.jpg")]})
    cookie = client.get_cookie("intake_session")
    assert cookie
    assert post_from_threads(app, payloads, cookie.value) == [200, 200, 200]
    assert at_once.most == 1


@pytest.mark.parametrize(("mode", "source_format"), [
    ("P", "PNG"), ("RGBA", "PNG"), ("L", "PNG"), ("P", "GIF"), ("CMYK", "JPEG")])
def test_a_cleaned_image_keeps_its_pixels_and_loses_its_metadata(mode: str,
                                                                  source_format: str) -> None:
    image = Image.new("RGB", (40, 20), (10, 200, 30)).convert(mode)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    data = io.BytesIO()
    metadata = {"comment": b"CameraMaker"} if source_format == "GIF" else {"exif": exif}
    image.save(data, source_format, **metadata)
    clean, content_type = scrub(io.BytesIO(data.getvalue()))
    rebuilt = Image.open(io.BytesIO(clean))
    assert b"CameraMaker" in data.getvalue()
    assert b"CameraMaker" not in clean
    assert content_type == ("image/jpeg" if source_format == "JPEG" else "image/png")
    expected = image.convert("RGB").getpixel((5, 5))
    assert all(abs(a - b) < 8 for a, b in zip(rebuilt.convert("RGB").getpixel((5, 5)),
                                               expected, strict=True))
    assert rebuilt.size == (40, 20)


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
BROKEN_JPEG = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00GPS 35.7N 51.4E" + b"\x00" * 200
UNREADABLE = "to remove location and device details from it, so nothing was stored"


JPEG_XL = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00" * 200
BROKEN_BIGTIFF = b"II+\x00\x08\x00\x00\x00GPS 35.7N 51.4E" + b"\x00" * 200


@pytest.mark.parametrize(("name", "content"), [("IMG_1367.HEIC", HEIC),
                                               ("عکس.jpg", BROKEN_JPEG),
                                               ("photo.jxl", JPEG_XL),
                                               ("scan.tif", BROKEN_BIGTIFF)])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_photo_that_cannot_be_cleaned_is_refused_by_name_kept_pending_and_can_be_removed(
        app: Flask, client: FlaskClient, name: str, content: bytes) -> None:
    """The refused photo stays listed (never stored) until the family removes it."""
    response = post_form(client, filled_form(), [(name, content)], lang="en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"We could not open the photo “<bdi>{name}</bdi>” {UNREADABLE}" in page
    assert stored_rows(app) == (0, 0)
    assert len(pending_blobs(app)) == 1
    assert store_files(app) == pending_blobs(app)
    file_id = re.search(r'name="remove_file" value="([0-9a-f]+)"', page)
    assert file_id
    removal = filled_form() | {"remove_file": file_id.group(1)} | {
        field: hidden(page, field) for field in ("csrf_token", "form_nonce", "code", "files_key")}
    after = client.post("/submit?lang=en", data=removal, content_type="multipart/form-data")
    assert after.status_code == 200
    assert name not in after.get_data(as_text=True)
    assert (stored_rows(app), store_files(app), pending_blobs(app)) == ((0, 0), [], [])


def test_a_photo_that_cannot_be_cleaned_is_stored_as_sent_when_the_family_keeps_originals(
        app: Flask, client: FlaskClient) -> None:
    response = post_form(client, filled_form(keep_originals="y"), [("IMG_1367.HEIC", HEIC)])
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert stored["files"][0]["content"] == HEIC
