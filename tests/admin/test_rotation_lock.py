"""Vetting and revocation on the admin page while a key rotation holds the desk's lock."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from intake.desk import rotation
from intake.store.models import User
from intake.web.database import get_session
from tests.review.conftest import page_token
from tests.review.test_locked import add_unvetted
from tests.unlock import read_aloud

BUSY = "Keys are being rotated or backed up right now, so access cannot be granted yet."
ROTATE_AFTER = "A key rotation is running now; when it has finished, rotate the desk keys once more"


def account(app: Flask, name: str) -> tuple[str, bytes]:
    """Return an account's id and key fingerprint."""
    with app.app_context():
        user = get_session().query(User).filter_by(name=name).one()
        return user.id, bytes.fromhex(user.key_fingerprint)


def rotation_lock(app: Flask):  # type: ignore[no-untyped-def]
    """Hold the lock a running rotation holds."""
    return rotation.exclusive(app.extensions["intake.settings"].instance_path, "main")


def test_granting_access_while_keys_rotate_asks_to_try_again_after(app: Flask,
                                                                   admin: FlaskClient) -> None:
    add_unvetted(app, "sima")
    sima, fingerprint = account(app, "sima")
    keyring, token = app.extensions["intake.desk"].keyring, page_token(admin, "/admin/?lang=en")
    with rotation_lock(app):
        heard = read_aloud(app, sima)
        refused = admin.post(f"/admin/users/{sima}/grant",
            data={"csrf_token": token, "fingerprint": heard})
    assert refused.status_code == 200
    assert BUSY in refused.get_data(as_text=True)
    assert keyring.grant("main", 1, fingerprint) is None
    heard = read_aloud(app, sima)
    assert admin.post(f"/admin/users/{sima}/grant",
        data={"csrf_token": token, "fingerprint": heard}).status_code == 302
    assert keyring.grant("main", 1, fingerprint) is not None


def test_revoking_while_keys_rotate_is_done_at_once_and_asks_for_another_rotation(
        app: Flask, admin: FlaskClient) -> None:
    reviewer, fingerprint = account(app, "reviewer")
    token = page_token(admin, "/admin/?lang=en")
    with rotation_lock(app):
        page = admin.post(f"/admin/users/{reviewer}/revoke",
                          data={"csrf_token": token, "confirmed": "y"})
    assert ROTATE_AFTER in page.get_data(as_text=True)
    assert app.extensions["intake.desk"].keyring.grant("main", 1, fingerprint) is None
    with app.app_context():
        assert get_session().get(User, reviewer).state == "revoked"
