"""Helpers for driving the testimony form: a filled form, files with markers, decryption."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from intake.crypto import (
    Keyring,
    decrypt_field,
    decrypt_stream,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.store.models import Attachment, Submission, User
from intake.web.database import get_session
from tests.conftest import ADMIN_PASSPHRASE

MARKER = "MARKER-7f3a9c-شهادت"


def gps_jpeg(marker: str = MARKER) -> bytes:
    """A JPEG whose EXIF holds GPS coordinates, a camera model and a marker."""
    image = Image.new("RGB", (64, 32), (120, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the scrubbed copy must come out 32x64
    exif[0x010F] = "CameraMaker"
    exif[0x0110] = marker.encode().hex()
    exif[0x8825] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (51.0, 25.0, 9.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def marker_file(size: int, marker: str = MARKER) -> bytes:
    """A file of `size` bytes with the marker repeated through it."""
    unit = (marker + "\n").encode()
    return (unit * (size // len(unit) + 1))[:size]


def hidden(page: str, name: str) -> str:
    """Return the value of a hidden field of a page."""
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert found, page[:500]
    return found.group(1)


def csrf_and_nonce(client: FlaskClient, lang: str = "fa") -> dict[str, str]:
    """Load the start page and return its CSRF token, one-time nonce and follow-up code."""
    page = client.get(f"/submit?lang={lang}").get_data(as_text=True)
    return {name: hidden(page, name) for name in ("csrf_token", "form_nonce", "code")}


def filled_form(**changes: Any) -> dict[str, Any]:
    """A complete Persian answer set with Solar Hijri dates."""
    data: dict[str, Any] = {
        "consent_internal": "y", "consent_un": "y",
        "name": f"علی رضایی {MARKER}", "relationship": "sister",
        "fathers_name": "حسن", "sex": "male",
        "birth_date-text": "۱۳۴۰", "birth_date-calendar": "solar_hijri",
        "birth_date-precision": "year",
        "arrest_date-text": "۱۵ فروردین ۱۳۶۶", "arrest_date-calendar": "solar_hijri",
        "arrest_date-precision": "exact", "arrest_place": "تهران",
        "prisons": "اوین، گوهردشت", "death_date-text": "مرداد ۱۳۶۷",
        "death_date-calendar": "solar_hijri", "death_date-precision": "month",
        "burial_place": "خاوران",
        "testimony": f"در تابستان ۱۳۶۷ دیگر اجازهٔ ملاقات ندادند. {MARKER}",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post_form(client: FlaskClient, data: dict[str, Any], files: list[tuple[str, bytes]] = (),
              lang: str = "fa", photo: bytes | None = None):  # type: ignore[no-untyped-def]
    """Post the form with files as a real browser would (multipart)."""
    payload = dict(csrf_and_nonce(client, lang)) | data
    if files:
        payload["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    if photo is not None:
        payload["photo"] = (io.BytesIO(photo), "portrait.jpg")
    return client.post(f"/submit?lang={lang}", data=payload, content_type="multipart/form-data")


def read_everything(app: Flask, passphrase: str = ADMIN_PASSPHRASE) -> list[dict[str, Any]]:
    """Decrypt every stored submission as the admin would, through the key hierarchy."""
    settings = app.extensions["intake.settings"]
    store = app.extensions["intake.desk"].store
    with app.app_context():
        session = get_session()
        admin = session.query(User).filter_by(name="admin").one()
        keyring = Keyring(settings.keys_dir)
        epochs = unlock_epochs(keyring, unlock(keyring.user_key(admin.id)[1],
                                               admin.passphrase_verifier, passphrase))
        result = []
        for row in session.query(Submission):
            key = open_data_key(row.sealed_key, epochs[row.desk_id, row.epoch_id],
                                desk_id=row.desk_id, epoch_id=row.epoch_id, record_id=row.id)
            answers = json.loads(decrypt_field(key, row.answers, record_id=row.id,
                                               field="answers"))
            files = []
            for attachment in session.query(Attachment).filter_by(
                    submission_id=row.id).order_by(Attachment.position):
                meta = json.loads(decrypt_field(key, attachment.meta, record_id=row.id,
                                                field=f"attachment:{attachment.id}"))
                with store.open(attachment.blob) as blob:
                    content = b"".join(decrypt_stream(key, blob, record_id=row.id,
                                                      file_id=attachment.id))
                files.append({"meta": meta, "content": content})
            result.append({"row": row, "answers": answers, "files": files})
        return result


class AtOnce:
    """Count how many calls are inside `hold` at the same moment, and the most seen."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        """Stay inside for a while, counted."""
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(seconds)
        with self._lock:
            self.running -= 1
