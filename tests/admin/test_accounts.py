"""A reviewer's own account: revoked accounts cannot log in; changing the passphrase."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.crypto import DecryptionError, unlock, unlock_epochs
from intake.store.models import User
from intake.web.database import get_session
from tests.conftest import REVIEWER_PASSPHRASE
from tests.review.conftest import log_in, page_token, totp_now

NEW = "a different reviewer passphrase"


def failure_page(response) -> str:  # type: ignore[no-untyped-def]
    """The login answer without its CSRF token, which differs every time."""
    assert response.status_code == 401
    return str(response.get_data(as_text=True).split('name="csrf_token"')[0])


def test_a_revoked_account_cannot_log_in_and_is_told_what_a_wrong_passphrase_is_told(
        app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        reviewer = get_session().query(User).filter_by(name="reviewer").one().id
    admin.post(f"/admin/users/{reviewer}/revoke",
               data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"})
    revoked = failure_page(log_in(app, app.test_client()))
    wrong = failure_page(log_in(app, app.test_client(), name="admin",
                                passphrase="not the admin passphrase"))
    assert revoked == wrong


def two_sessions(app: Flask) -> tuple[FlaskClient, FlaskClient]:
    """Log the reviewer in twice (the second with the next code: codes are single use)."""
    first, second = app.test_client(), app.test_client()
    assert log_in(app, first).status_code == 302
    assert log_in(app, second, code=totp_now(app, "reviewer", 30)).status_code == 302
    return first, second


def change(client: FlaskClient, current: str, new: str = NEW) -> str:
    token = page_token(client, "/review/passphrase?lang=en")
    return str(client.post("/review/passphrase", data={
        "csrf_token": token, "current": current, "new": new, "confirm": new}).get_data(
            as_text=True))


def stored_key(app: Flask) -> tuple[User, bytes, bytes]:
    """The reviewer's account, public key fingerprint and wrapped private key."""
    with app.app_context():
        user = get_session().query(User).filter_by(name="reviewer").one()
    public, wrapped = app.extensions["intake.desk"].keyring.user_key(user.id)
    return user, public.fingerprint, wrapped


def test_changing_the_passphrase_keeps_the_key_and_its_grants_and_ends_other_sessions(
        app: Flask) -> None:
    first, second = two_sessions(app)
    before, fingerprint, old_wrapped = stored_key(app)
    keyring = app.extensions["intake.desk"].keyring
    epochs = unlock_epochs(keyring, unlock(old_wrapped, before.passphrase_verifier,
                                           REVIEWER_PASSPHRASE))
    assert "Your passphrase is changed" in change(first, REVIEWER_PASSPHRASE)
    after, new_fingerprint, wrapped = stored_key(app)
    key = unlock(wrapped, after.passphrase_verifier, NEW)
    assert new_fingerprint == fingerprint == key.fingerprint
    assert after.key_fingerprint == before.key_fingerprint
    assert {k: v.to_bytes() for k, v in unlock_epochs(keyring, key).items()} == {
        k: v.to_bytes() for k, v in epochs.items()}
    assert ("main", 1) in epochs
    with pytest.raises(DecryptionError):
        unlock(wrapped, after.passphrase_verifier, REVIEWER_PASSPHRASE)
    assert first.get("/review/").status_code == 200
    assert second.get("/review/").status_code == 302


def test_a_wrong_current_passphrase_changes_nothing(app: Flask) -> None:
    first, second = two_sessions(app)
    before, _, wrapped = stored_key(app)
    page = change(first, "not my passphrase at all")
    assert "Your current passphrase is not right." in page
    after, _, still = stored_key(app)
    assert (after.passphrase_verifier, still) == (before.passphrase_verifier, wrapped)
    assert unlock(still, after.passphrase_verifier, REVIEWER_PASSPHRASE)
    assert first.get("/review/").status_code == 200
    assert second.get("/review/").status_code == 200


def test_a_passphrase_change_whose_database_write_fails_leaves_the_old_passphrase_working(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.desk import audit

    first, _ = two_sessions(app)
    before, _, wrapped = stored_key(app)

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(audit, "record", full_disk)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert first.post("/review/passphrase", data={
        "csrf_token": page_token(first, "/review/passphrase"), "current": REVIEWER_PASSPHRASE,
        "new": NEW, "confirm": NEW}).status_code == 500
    after, _, still = stored_key(app)
    assert (after.passphrase_verifier, still) == (before.passphrase_verifier, wrapped)
    assert unlock(still, after.passphrase_verifier, REVIEWER_PASSPHRASE)
