"""Replacing a phished reviewer's keys: a new key pair, the old one and its grants destroyed."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError, Keyring, PrivateKey, unlock, unlock_epochs
from intake.desk import rotation
from intake.store.models import AuditEvent, ReviewSession, User
from intake.web.database import get_session
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE
from tests.review.conftest import log_in, one_clock_minute, page_token, totp_now
from tests.unlock import read_aloud, unlock_user

NEW_PASSPHRASE = "a brand new passphrase after phishing"


def reviewer_row(app: Flask) -> User:
    with app.app_context():
        return get_session().query(User).filter_by(name="reviewer").one()


def phished_key(app: Flask) -> PrivateKey:
    """What a phisher holds: the wrapped key copied from keys/, opened with the passphrase."""
    keyring: Keyring = app.extensions["intake.desk"].keyring
    user = reviewer_row(app)
    return unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, REVIEWER_PASSPHRASE)


def replace(client: FlaskClient, current: str = REVIEWER_PASSPHRASE,
            new: str = NEW_PASSPHRASE):  # type: ignore[no-untyped-def]
    return client.post("/review/keys?lang=en", data={
        "csrf_token": page_token(client, "/review/keys"), "current": current, "new": new,
        "confirm": new})


def admin_client(app: Flask, offset: int = 0) -> FlaskClient:
    client = app.test_client()
    assert log_in(app, client, name="admin", code=totp_now(app, "admin", offset)
                  ).status_code == 302
    return client


def grant(app: Flask, admin: FlaskClient, user_id: str) -> None:
    heard = read_aloud(app, user_id)
    admin.post(f"/admin/users/{user_id}/grant",
               data={"csrf_token": page_token(admin, "/admin/"), "fingerprint": heard})


def rotate(app: Flask) -> None:
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, app.extensions["intake.settings"].instance_path, "main",
                     admin, keys.key, rotation.Progress(), settle_seconds=0, signer=signer)


def test_a_phished_key_reads_nothing_after_its_owner_replaces_it_and_is_granted_again(
        app: Flask, reviewer: FlaskClient) -> None:
    """A phisher copied the wrapped key and learnt the passphrase. The reviewer replaces
    their keys: the old key loses every grant at once, the sessions end, the old passphrase
    no longer logs in; an admin grants the new key and rotates, and the phished key opens
    no epoch, while the new one opens the current epoch."""
    stolen, keyring = phished_key(app), app.extensions["intake.desk"].keyring
    assert unlock_epochs(keyring, stolen)
    old_public = keyring.user_key(reviewer_row(app).id)[0]
    page = replace(reviewer).get_data(as_text=True)
    user = reviewer_row(app)
    assert user.key_fingerprint != stolen.fingerprint.hex()
    assert " ".join(user.key_fingerprint[i:i + 4] for i in range(0, 32, 4)) in page
    assert keyring.user_key(user.id)[0] != old_public
    assert unlock_epochs(keyring, stolen) == {}
    with app.app_context():
        assert get_session().query(ReviewSession).filter_by(user_id=user.id).count() == 0
    with pytest.raises(DecryptionError):
        unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, REVIEWER_PASSPHRASE)
    again = app.test_client()
    assert log_in(app, again, passphrase=NEW_PASSPHRASE,
                  code=totp_now(app, "reviewer", 30)).status_code == 302
    assert "Awaiting vetting" in again.get("/review/", query_string={"lang": "en"}).get_data(
        as_text=True)
    grant(app, admin_client(app), user.id)
    rotate(app)
    new_key = unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, NEW_PASSPHRASE)
    current = keyring.current_epoch("main").id
    assert current == 2
    assert set(unlock_epochs(keyring, new_key)) == {("main", 2)}
    assert unlock_epochs(keyring, stolen) == {}
    with app.app_context():
        actions = [e.action for e in get_session().query(AuditEvent).filter_by(
            subject_id=user.id)]
    assert "replace_keys" in actions


def test_replacing_keys_needs_the_current_passphrase_and_a_new_one_and_changes_nothing_else(
        app: Flask, reviewer: FlaskClient) -> None:
    before = reviewer_row(app).key_fingerprint
    wrong = replace(reviewer, current="not my passphrase at all")
    assert wrong.status_code == 422
    assert "current passphrase is not right" in wrong.get_data(as_text=True)
    same = replace(reviewer, new=REVIEWER_PASSPHRASE)
    assert same.status_code == 422
    assert "the old one may be known" in same.get_data(as_text=True)
    assert reviewer_row(app).key_fingerprint == before
    assert unlock_epochs(app.extensions["intake.desk"].keyring, phished_key(app))
    assert reviewer.get("/review/").status_code == 200


def test_while_a_rotation_runs_keys_are_not_replaced(app: Flask, reviewer: FlaskClient) -> None:
    """A rotation grants to the public key in the keyring: a key changing under it could be
    granted without vetting, so the replacement waits."""
    before = reviewer_row(app).key_fingerprint
    with rotation.exclusive(app.extensions["intake.settings"].instance_path, "main"):
        busy = replace(reviewer)
    assert busy.status_code == 422
    assert "being rotated or backed up" in busy.get_data(as_text=True)
    assert reviewer_row(app).key_fingerprint == before


def test_an_admin_requires_new_keys_and_cannot_grant_the_old_key_until_they_are_replaced(
        app: Flask, reviewer: FlaskClient) -> None:
    """After a suspected phishing the admin requires new keys: the account's grants and
    sessions go at once, granting it again is refused while it holds the old key, its owner
    is asked to replace the keys at login, and once replaced the admin can grant again."""
    admin, keyring = admin_client(app), app.extensions["intake.desk"].keyring
    stolen, user = phished_key(app), reviewer_row(app)
    admin.post(f"/admin/users/{user.id}/require-new-keys",
               data={"csrf_token": page_token(admin, "/admin/")})
    assert unlock_epochs(keyring, stolen) == {}
    assert reviewer.get("/review/").status_code == 302
    grant(app, admin, user.id)
    assert unlock_epochs(keyring, stolen) == {}
    owner = app.test_client()
    assert log_in(app, owner, code=totp_now(app, "reviewer", 30)).status_code == 302
    assert "asked you to replace your keys" in owner.get(
        "/review/", query_string={"lang": "en"}).get_data(as_text=True)
    assert replace(owner).status_code == 200
    user = reviewer_row(app)
    assert not user.must_replace_keys
    grant(app, admin, user.id)
    new_key = unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, NEW_PASSPHRASE)
    assert set(unlock_epochs(keyring, new_key)) == {("main", 1)}
    with app.app_context():
        [event] = get_session().query(AuditEvent).filter_by(action="require_new_keys").all()
    assert event.subject_id == user.id


def test_guessing_the_passphrase_through_replace_my_keys_is_throttled(
        app: Flask, reviewer: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone at an unlocked session tries passphrases on the replace form: the sixth try
    in a minute is refused before any passphrase is checked."""
    one_clock_minute(monkeypatch)
    for _ in range(5):
        assert replace(reviewer, current="a guessed passphrase").status_code == 422
    assert replace(reviewer).status_code == 429
    assert reviewer_row(app).key_fingerprint == phished_key(app).fingerprint.hex()


def test_replace_my_keys_shares_the_passphrase_counter_and_writes_no_account_id(
        app: Flask, reviewer: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone at a stolen session spends five passphrase guesses on /review/passphrase, then
    turns to /review/keys for five more: the sixth guess in the minute is refused wherever it
    is sent, and no throttle row names the account's id in the clear."""
    one_clock_minute(monkeypatch)
    for _ in range(5):
        reviewer.post("/review/passphrase?lang=en", data={
            "csrf_token": page_token(reviewer, "/review/passphrase"),
            "current": "a guessed passphrase", "new": NEW_PASSPHRASE, "confirm": NEW_PASSPHRASE})
    assert replace(reviewer).status_code == 429
    user_id = reviewer_row(app).id
    with app.app_context():
        keys = [row[0] for row in get_session().execute(text("SELECT key FROM throttle"))]
    assert keys
    assert not [key for key in keys if user_id in key]
