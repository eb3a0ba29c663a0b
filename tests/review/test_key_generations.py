"""Content written after a rotation is under a key generation no revoked account held."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.crypto import (
    DecryptionError,
    PrivateKey,
    decrypt_field,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.desk import rotation
from intake.staff.accounts import revoke
from intake.store.models import Attachment, Note, Reply, Submission, User
from intake.testimonies import cases
from intake.web.database import get_session
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE
from tests.review.conftest import log_in, page_token
from tests.review.test_cases import submit
from tests.review.test_locked import add_more
from tests.unlock import unlock_user

Epochs = dict[tuple[str, int], PrivateKey]


def epochs_of(app: Flask, name: str, passphrase: str) -> Epochs:
    """The epoch keys a user's login unlocks, as they could keep them."""
    keyring = app.extensions["intake.desk"].keyring
    user = get_session().query(User).filter_by(name=name).one()
    return unlock_epochs(keyring, unlock(keyring.user_key(user.id)[1], user.passphrase_verifier,
                                         passphrase))


def kept_by_reviewer(app: Flask) -> tuple[Epochs, list[bytes]]:
    """Everything the reviewer could have copied: epoch keys and every case key generation."""
    with app.app_context():
        db = get_session()
        epochs = epochs_of(app, "reviewer", REVIEWER_PASSPHRASE)
        keys = [key for row in db.query(Submission)
                for key in cases.data_key(row, epochs, db).generations]
    return epochs, keys


def revoke_and_rotate(app: Flask) -> None:
    """Revoke the reviewer, then rotate as the admin (the rotation ends every session)."""
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        revoke(db, keyring, db.query(User).filter_by(name="reviewer").one())
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, app.extensions["intake.settings"].instance_path, "main",
                     admin, keys.key, rotation.Progress(), settle_seconds=0, signer=signer)


def write_everything(client: FlaskClient, case_id: str, note: str) -> None:
    """Triage with labels and an assessment, a note and a reply, through the case page."""
    path = f"/review/{case_id}"
    token = page_token(client, path)
    for action, data in (
            ("triage", {"status": "corroborated", "family_status": "received", "priority": "1",
                        "assignee": "", "labels": "خاوران", "violation": "likely",
                        "reliability": "reliable", "connection": "family"}),
            ("note", {"text": note}), ("reply", {"text": "پاسخ پس از چرخش کلید"})):
        assert client.post(f"{path}/{action}", data={"csrf_token": token, **data}
                           ).status_code == 302


def new_ciphertexts(app: Flask, case_id: str, before: set[str]) -> list[tuple[bytes, str, str]]:
    """Each field written after the rotation: (ciphertext, record id, field)."""
    db = get_session()
    case = db.get(Submission, case_id)
    found = [(case.labels, case_id, "labels"), (case.assessment, case_id, "assessment")]
    found += [(n.body, case_id, f"note:{n.id}") for n in db.query(Note) if n.id not in before]
    found += [(r.for_desk, case_id, f"reply:{r.id}") for r in db.query(Reply)
              if r.id not in before]
    for addition in db.query(Submission).filter_by(parent_id=case_id):
        found.append((addition.answers, addition.id, "answers"))
        found += [(a.meta, addition.id, f"attachment:{a.id}")
                  for a in db.query(Attachment).filter_by(submission_id=addition.id)]
    return found


def test_a_revoked_reviewer_who_kept_every_key_reads_nothing_written_after_the_rotation(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """The reviewer reads a case and keeps its data key, every generation of it and the epoch
    key; after revocation and a rotation, the note, reply, labels, assessment and the family's
    addition written next open with none of them; the admin reads old and new content."""
    code = submit(family)
    with app.app_context():
        [case_id] = [s.id for s in get_session().query(Submission)]
    write_everything(reviewer, case_id, "یادداشت پیش از چرخش")
    epochs, kept = kept_by_reviewer(app)
    with app.app_context():
        before = {row.id for model in (Note, Reply) for row in get_session().query(model)}
    revoke_and_rotate(app)
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    write_everything(admin, case_id, "یادداشت پس از چرخش")
    add_more(family, code, "افزوده پس از چرخش")
    with app.app_context():
        written = new_ciphertexts(app, case_id, before)
        assert len(written) == 6
        for ciphertext, record_id, field in written:
            for key in kept:
                with pytest.raises(DecryptionError):
                    decrypt_field(key, ciphertext, record_id=record_id, field=field)
        addition = get_session().query(Submission).filter_by(parent_id=case_id).one()
        for epoch_key in epochs.values():
            with pytest.raises(DecryptionError):
                open_data_key(addition.sealed_key, epoch_key, desk_id=addition.desk_id,
                              epoch_id=addition.epoch_id, record_id=addition.id)
    page = admin.get(f"/review/{case_id}").get_data(as_text=True)
    for shown in ("یادداشت پیش از چرخش", "یادداشت پس از چرخش", "پاسخ پس از چرخش کلید",
                  "خاوران", "افزوده پس از چرخش", "علی رضایی"):
        assert shown in page


def test_a_session_that_kept_a_case_key_picks_up_the_generation_a_rotation_adds(
        app: Flask, family: FlaskClient) -> None:
    """A reviewer logs in while a rotation runs (holding both epochs) and lists the case,
    keeping its generation 0; the rotation then adds generation 1 and another reviewer labels
    the case under it: the first reviewer's inbox shows the label, not a broken case."""
    submit(family)
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        _, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        admin_key = keys.key
        target = rotation.begin(db, keyring, "main", admin_key, int(time.time()), signer)[0]
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    assert "علی رضایی" in reviewer.get("/review/").get_data(as_text=True)
    with Session(app.extensions["intake.db"]) as db:
        assert list(rotation.reseal(db, keyring, target, admin_key, 10)) == [1]
    with app.app_context():
        db = get_session()
        case = db.query(Submission).one()
        keys = cases.data_key(case, epochs_of(app, "admin", ADMIN_PASSPHRASE), db)
        assert keys.newest_generation == 1
        cases.set_labels(case, keys, ["گورستان خاوران"])
        db.commit()
    assert "گورستان خاوران" in reviewer.get("/review/").get_data(as_text=True)
    assert "گورستان خاوران" in reviewer.get(
        "/review/", query_string={"label": "گورستان خاوران"}).get_data(as_text=True)
