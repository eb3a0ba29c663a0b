"""The signed keyring against an attacker who can write the keyring and the database.

Each test edits the instance's files as someone holding the server (seized and
handed back, a compelled host) would, then uses the instance as the family,
the reviewer or the admin does: the family side must never seal to a key no
admin certified, and a login must stop with an alarm naming what changed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake import create_app, trust
from intake.crypto import Keyring, PrivateKey, SigningPrivateKey, unlock_epochs
from intake.crypto.certs import epoch_certificate, parse_certificate, root_certificate
from intake.models import Submission, User
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, Instance
from tests.review.conftest import log_in
from tests.submit.conftest import filled_form, post_form
from tests.unlock import unlock_user

OFFLINE = "This service is not available right now."
ALARM = "هشدار کلیدها: دست نگه دارید"  # "Keyring alarm: stop", in the default Persian


def keyring_of(app: Flask) -> Keyring:
    return app.extensions["intake.desk"].keyring


def certs_dir(instance: Instance) -> Path:
    return instance.keys_dir / "desks" / "main" / "certs"


def family_can_send(app: Flask) -> bool:
    """Open the form and send a testimony; say whether it was stored."""
    family = app.test_client()
    start = family.get("/submit?lang=en")
    if start.status_code == 503:
        assert OFFLINE in start.get_data(as_text=True)
        return False
    response = post_form(family, filled_form())
    with Session(app.extensions["intake.db"]) as db:
        stored = db.query(Submission).count()
    return response.status_code in (200, 302) and stored > 0


def plant_epoch(keyring: Keyring) -> PrivateKey:
    """Add an epoch whose key the attacker holds, and make it current."""
    key = PrivateKey.generate()
    epoch = keyring.add_epoch("main", key.public_key, dt.date.today())
    keyring.set_current_epoch("main", epoch.id)
    return key


def test_an_epoch_planted_in_the_keyring_is_never_sealed_to(app: Flask) -> None:
    """Someone who can write the keyring adds an epoch of their own and makes it current:
    the family side goes offline (before the form, and at sending) instead of sealing to it,
    and comes back once the keyring names the certified epoch again."""
    keyring = keyring_of(app)
    family = app.test_client()
    start = family.get("/submit?lang=en")
    assert start.status_code == 200
    plant_epoch(keyring)
    assert not family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        assert db.query(Submission).count() == 0
    keyring.set_current_epoch("main", 1)
    assert family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        assert {row.epoch_id for row in db.query(Submission)} == {1}


def test_a_rolled_back_current_epoch_still_seals_to_the_newest_certified_one(
        app: Flask, instance: Instance) -> None:
    """After a rotation, desk.json is edited back to epoch 1 (whose key a revoked reviewer
    may have kept): new testimony is still sealed to epoch 2."""
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        from intake import rotation
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)
    keyring.set_current_epoch("main", 1)
    assert family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        assert {row.epoch_id for row in db.query(Submission)} == {2}


def test_an_edited_epoch_key_takes_the_family_side_offline(app: Flask,
                                                           instance: Instance) -> None:
    """The current epoch's public key is swapped in epoch.json: nothing is sealed to it."""
    path = instance.keys_dir / "desks" / "main" / "epochs" / "1" / "epoch.json"
    entry = json.loads(path.read_text())
    import base64
    entry["public_key"] = base64.b64encode(PrivateKey.generate().public_key.raw).decode()
    path.write_text(json.dumps(entry))
    assert not family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        assert db.query(Submission).count() == 0


def test_a_deleted_chain_is_an_alarm_not_an_uncertified_instance(app: Flask,
                                                                 instance: Instance) -> None:
    """Deleting every certificate does not fall back to the warning mode of an old instance:
    config.py pins the root, so the family side goes offline."""
    shutil.rmtree(certs_dir(instance))
    assert not family_can_send(app)
    reviewer = app.test_client()
    response = log_in(app, reviewer)
    assert response.status_code == 409
    assert ALARM in response.get_data(as_text=True)
    assert "intake_review" not in response.headers.get("Set-Cookie", "")


def replace_chain(instance: Instance) -> PrivateKey:
    """Write a whole new chain, rooted in the attacker's own key, and an epoch it certifies."""
    keyring, attacker = Keyring(instance.keys_dir), SigningPrivateKey.generate()
    epoch_key = plant_epoch(keyring)
    epoch = keyring.current_epoch("main")
    root = root_certificate("main", "attacker", PrivateKey.generate().public_key, attacker,
                            SigningPrivateKey.generate().public_key)
    first = epoch_certificate(root, attacker, epoch.id, epoch.public_key)
    shutil.rmtree(certs_dir(instance))
    keyring.append_certificate("main", 0, root.to_bytes())
    keyring.append_certificate("main", 1, first.to_bytes())
    return epoch_key


def test_a_replaced_chain_is_refused_by_the_pinned_server(app: Flask,
                                                          instance: Instance) -> None:
    replace_chain(instance)
    assert not family_can_send(app)


def test_a_replaced_chain_fools_an_unpinned_server_but_not_a_login(instance: Instance) -> None:
    """With ROOT_FINGERPRINT taken out of config.py too, the server checks the chain against
    its own first certificate and is fooled; the reviewer's keys pin the real root, so their
    next login stops with the alarm and unlocks nothing."""
    replace_chain(instance)
    app = create_app({**instance.config, "ROOT_FINGERPRINT": ""})
    reviewer = app.test_client()
    response = log_in(app, reviewer)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert ALARM in page
    assert "does not start with the pinned root" in page
    assert reviewer.get("/review/").status_code == 302  # no session: back to the login page


def sign_next(instance: Instance, signer: SigningPrivateKey) -> None:
    """Append an epoch certificate for a planted epoch, signed by `signer`."""
    keyring = Keyring(instance.keys_dir)
    plant_epoch(keyring)
    epoch = keyring.current_epoch("main")
    last = parse_certificate(keyring.certificates("main")[-1])
    certificate = epoch_certificate(last, signer, epoch.id, epoch.public_key)
    keyring.append_certificate("main", certificate.seq, certificate.to_bytes())


def test_an_epoch_certified_by_a_reviewer_is_refused(app: Flask, instance: Instance) -> None:
    """A reviewer's signing key is certified, but only admins certify epochs."""
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring_of(app), "reviewer", REVIEWER_PASSPHRASE)
    assert keys.signing_key is not None
    sign_next(instance, keys.signing_key)
    assert not family_can_send(app)
    response = log_in(app, app.test_client(), name="admin")
    assert response.status_code == 409
    assert "the issuer is not a certified admin of this desk" in response.get_data(as_text=True)


def test_a_certificate_signed_by_a_revoked_admin_after_its_revocation_is_refused(
        app: Flask, instance: Instance) -> None:
    """An admin is revoked (the revoking admin's session certifies it); the revoked admin kept
    its signing key and appends an epoch certificate afterwards: refused."""
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        from intake.setup import add_granted_user
        epoch_key = unlock_epochs(keyring, keys.key)[("main", 1)]
        add_granted_user(db, keyring, app.extensions["intake.settings"], epoch_key,
                         name="darius", role="admin", passphrase="darius passphrase long",
                         today=dt.date.today(), root=keys.root, signer=signer)
        db.commit()
        _, darius, _ = unlock_user(db, keyring, "darius", "darius passphrase long")
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    from tests.review.conftest import page_token
    token = page_token(admin, "/admin/")
    with Session(app.extensions["intake.db"]) as db:
        darius_id = db.query(User).filter_by(name="darius").one().id
    assert admin.post(f"/admin/users/{darius_id}/revoke",
                      data={"csrf_token": token}).status_code == 200
    kinds = [parse_certificate(blob).kind.value for blob in keyring.certificates("main")]
    assert kinds[-1] == "revocation"
    assert darius.signing_key is not None
    sign_next(instance, darius.signing_key)
    assert not family_can_send(app)
    with pytest.raises(trust.TrustError, match="the issuer was revoked before it signed"):
        trust.sealing_epoch(keyring, "main", app.extensions["intake.settings"].root)


@pytest.mark.parametrize("half", ["ed25519", "ml-dsa-65"])
def test_a_signature_with_only_one_valid_half_is_refused(app: Flask, instance: Instance,
                                                         half: str) -> None:
    """The first epoch's certificate keeps one half of its signature and has the other
    replaced by a valid signature of the same statement under a key the attacker holds."""
    path = certs_dir(instance) / "000001.cert"
    blob = path.read_bytes()
    certificate = parse_certificate(blob)
    forged = SigningPrivateKey.generate().sign(b"other", trust_use())
    head = blob[:len(blob) - len(certificate.signature)]
    signature = certificate.signature
    if half == "ed25519":  # keep Ed25519, replace ML-DSA
        signature = signature[:65] + forged[65:]
    else:  # keep ML-DSA, replace Ed25519
        signature = signature[:1] + forged[1:65] + signature[65:]
    path.write_bytes(head + signature)
    assert not family_can_send(app)


def trust_use():  # type: ignore[no-untyped-def]
    from intake.crypto.signing import Use
    return Use.CERTIFICATE


def test_the_database_cannot_promote_a_reviewer_to_admin(app: Flask) -> None:
    """Someone who can write the database makes the reviewer an admin: the certificate names
    the role, so the reviewer's login stops with the alarm and no admin page opens."""
    with Session(app.extensions["intake.db"]) as db:
        db.query(User).filter_by(name="reviewer").one().role = "admin"
        db.commit()
    reviewer = app.test_client()
    response = log_in(app, reviewer)
    assert response.status_code == 409
    assert "the database gives this account the role admin" in response.get_data(as_text=True)
    assert reviewer.get("/admin/").status_code == 302


def test_a_public_key_swapped_in_the_keyring_raises_the_alarm_at_its_owners_login(
        app: Flask, instance: Instance) -> None:
    """The reviewer's public key in users/<id>.json is replaced (so that the next grants
    would go to the attacker): the reviewer's own login notices."""
    with Session(app.extensions["intake.db"]) as db:
        user_id = db.query(User).filter_by(name="reviewer").one().id
    path = instance.keys_dir / "users" / f"{user_id}.json"
    entry = json.loads(path.read_text())
    import base64
    entry["public_key"] = base64.b64encode(PrivateKey.generate().public_key.raw).decode()
    path.write_text(json.dumps(entry))
    response = log_in(app, app.test_client())
    assert response.status_code == 409
    assert "not the ones its passphrase unlocks" in response.get_data(as_text=True)


def test_a_grant_planted_for_an_uncertified_account_vets_nothing(app: Flask) -> None:
    """A reviewer who kept the epoch key plants a grant for a fresh account of their own:
    the account is not certified, so it reads nothing and reaches no admin page."""
    from intake.accounts import create_user, is_vetted
    from intake.crypto import grant_epoch
    keyring, settings = keyring_of(app), app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "reviewer", REVIEWER_PASSPHRASE)
        epoch_key = unlock_epochs(keyring, keys.key)[("main", 1)]
        user, made = create_user(db, keyring, name="mallory", role="admin",
                                 passphrase="mallory passphrase long",
                                 profile=settings.kdf_profile, today=dt.date.today(),
                                 root=settings.root)
        db.commit()
        grant_epoch(keyring, keyring.current_epoch("main"), epoch_key, made.key.public_key)
        assert not is_vetted(keyring, "main", user, settings.root)
    mallory = app.test_client()
    from tests.review.conftest import totp_now
    response = log_in(app, mallory, name="mallory", passphrase="mallory passphrase long",
                      code=totp_now(app, "mallory"))
    assert response.status_code == 302
    assert mallory.get("/admin/").status_code == 403
    inbox = mallory.get("/review/").get_data(as_text=True)
    assert "در انتظار تأیید" in inbox  # "Awaiting vetting"
    assert "علی رضایی" not in inbox


def test_each_unlock_signs_a_checkpoint_and_a_rewritten_log_is_named(
        app: Flask, runner_env: dict[str, str]) -> None:
    """After two logins, an entry before the newest checkpoint is rewritten and the whole
    chain and head recomputed (as someone with the database would): `intake audit verify`
    fails and names the entries the failing checkpoint brackets."""
    from intake import audit
    from intake.models import AuditCheckpoint, AuditEvent, AuditHead
    assert log_in(app, app.test_client()).status_code == 302
    assert log_in(app, app.test_client(), name="admin").status_code == 302
    engine = app.extensions["intake.db"]
    with Session(engine) as db:
        assert db.query(AuditCheckpoint).count() == 2
        assert cli(app, "audit", "verify").exit_code == 0
        first = db.query(AuditEvent).order_by(AuditEvent.seq).first()
        assert first is not None
        first.detail = "rewritten"
        prev = audit.GENESIS
        for event in db.query(AuditEvent).order_by(AuditEvent.seq):
            event.prev_hash = prev
            event.hash = audit._digest(prev, event.at, event.actor_id, event.action,
                                       event.subject_id, event.detail)
            prev = event.hash
        head = db.get(AuditHead, 1)
        assert head is not None
        head.hash = prev
        db.commit()
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0
    assert "does not match the log: an entry among 1-" in result.output


def cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def runner_env() -> dict[str, str]:
    return {}
