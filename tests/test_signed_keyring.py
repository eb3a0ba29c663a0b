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
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from intake import create_app
from intake.cli import main
from intake.crypto import Keyring, PrivateKey, SigningPrivateKey, unlock_epochs
from intake.crypto.certs import epoch_certificate, parse_certificate, root_certificate
from intake.desk import trust
from intake.store.models import Submission, User
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, Instance
from tests.review.conftest import log_in
from tests.submit.conftest import filled_form, post_form
from tests.unlock import read_aloud, unlock_user

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
    assert family.get("/submit?lang=en").status_code == 503  # before anything is typed
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
        from intake.desk import rotation
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
                            SigningPrivateKey.generate().public_key,
                            PrivateKey.generate().public_key)
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


def add_certified_admin(app: Flask, name: str) -> Any:
    """Make a second admin, certified and granted by the first; return its unlocked keys."""
    from intake.desk.setup import add_granted_user
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        epoch_key = unlock_epochs(keyring, keys.key)[("main", 1)]
        add_granted_user(db, keyring, app.extensions["intake.settings"], epoch_key,
                         name=name, role="admin", passphrase=f"{name} passphrase long",
                         today=dt.date.today(), root=keys.root, signer=signer)
        db.commit()
        return unlock_user(db, keyring, name, f"{name} passphrase long")[1]


def test_a_certificate_signed_by_a_revoked_admin_after_its_revocation_is_refused(
        app: Flask, instance: Instance) -> None:
    """An admin is revoked (the revoking admin's session certifies it); the revoked admin kept
    its signing key and appends an epoch certificate afterwards: refused."""
    keyring = keyring_of(app)
    darius = add_certified_admin(app, "darius")
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    from tests.review.conftest import page_token
    token = page_token(admin, "/admin/")
    with Session(app.extensions["intake.db"]) as db:
        darius_id = db.query(User).filter_by(name="darius").one().id
    assert admin.post(f"/admin/users/{darius_id}/revoke",
                      data={"csrf_token": token, "confirmed": "y"}).status_code == 200
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
    from intake.crypto import grant_epoch
    from intake.staff.accounts import create_user, is_vetted
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
    from intake.desk import audit
    from intake.store.models import AuditCheckpoint, AuditEvent, AuditHead
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
    return app.test_cli_runner().invoke(main, args=list(args))


@pytest.fixture
def runner_env() -> dict[str, str]:
    return {}


# Restoring: the backup's keyring must chain to the root the admin kept.

@pytest.fixture
def made(instance: Instance, tmp_path: Path) -> Path:
    from tests.test_backup_archives import made as real_backup
    return real_backup.__wrapped__(instance, tmp_path)  # type: ignore[attr-defined]


def restore_with(path: Path, target: Path, *options: str, answer: str = ""):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from intake.cli import main
    return CliRunner().invoke(main, ["--instance", str(target / "instance"), "--keys",
                                     str(target / "keys"), "restore", str(path), *options],
                              input=answer)


@pytest.mark.sqlite_only("the keyring check is the same for both databases; restoring a "
                        "pg_dump into an empty PostgreSQL database is tested in test_backup")
def test_restore_needs_the_root_the_admin_kept(instance: Instance, made: Path,
                                               tmp_path: Path) -> None:
    """--root with the fingerprint printed at init restores and pins it in config.py; a
    different fingerprint is refused and leaves the folders empty."""
    root = instance.initialised.root_text if instance.initialised else ""
    wrong = trust.fingerprint_text(bytes(32))
    refused = restore_with(made, tmp_path / "a", "--root", wrong)
    assert refused.exit_code != 0
    assert "does not chain to the root" in refused.output
    assert not (tmp_path / "a" / "keys").exists() or not any((tmp_path / "a" / "keys").iterdir())
    restored = restore_with(made, tmp_path / "b", "--root", root.lower().replace("-", " "))
    assert restored.exit_code == 0, restored.output
    config = (tmp_path / "b" / "instance" / "config.py").read_text()
    assert f"ROOT_FINGERPRINT = {root!r}" in config


@pytest.mark.sqlite_only("the keyring check is the same for both databases; restoring a "
                        "pg_dump into an empty PostgreSQL database is tested in test_backup")
def test_restore_without_root_shows_it_and_asks(instance: Instance, made: Path,
                                                tmp_path: Path) -> None:
    root = instance.initialised.root_text if instance.initialised else ""
    declined = restore_with(made, tmp_path / "a", answer="n\n")
    assert declined.exit_code != 0
    assert root in declined.output
    assert not (tmp_path / "a" / "instance" / "config.py").exists()
    accepted = restore_with(made, tmp_path / "b", answer="y\n")
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.sqlite_only("the keyring check is the same for both databases; restoring a "
                        "pg_dump into an empty PostgreSQL database is tested in test_backup")
@pytest.mark.parametrize("edit", ["epoch-key", "epoch-cert-removed", "certs-removed"])
def test_a_backup_edited_and_its_manifest_recomputed_is_refused(
        instance: Instance, made: Path, tmp_path: Path, edit: str) -> None:
    """Someone edits the stored backup (swaps the current epoch's key, drops the epoch's
    certificate or every certificate) and recomputes its manifest so it still checks out."""
    import base64
    import tarfile

    from tests.test_backup_archives import entries, write_archive
    items = []
    for info, data in entries(made):
        if edit == "epoch-key" and info.name.endswith("epochs/1/epoch.json"):
            entry = json.loads(data)
            entry["public_key"] = base64.b64encode(
                PrivateKey.generate().public_key.raw).decode()
            data = json.dumps(entry).encode()
            info = tarfile.TarInfo(info.name)
            info.size = len(data)
        if edit == "epoch-cert-removed" and info.name.endswith("certs/000001.cert"):
            continue
        if edit == "certs-removed" and "/certs/" in info.name:
            continue
        items.append((info, data))
    edited = write_archive(tmp_path / "edited.tar", items)
    root = instance.initialised.root_text if instance.initialised else ""
    result = restore_with(edited, tmp_path / "new", "--root", root)
    assert result.exit_code != 0
    assert "nothing was restored" in result.output
    assert not (tmp_path / "new" / "instance" / "config.py").exists()


# Crashes: never a current key without its certificate, never a certificate without its key.

class Crash(Exception):
    pass


@pytest.mark.parametrize("point", ["add_epoch", "put_grant", "append_certificate",
                                   "set_current_epoch"])
def test_a_rotation_killed_at_any_step_leaves_the_family_side_sealing_and_resumes(
        app: Flask, instance: Instance, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    """The rotation stops just after one keyring write (as a kill would leave it): the family
    side still seals to a certified epoch, and running the rotation again completes it with
    its epoch certified and current."""
    from intake.desk import rotation
    keyring = keyring_of(app)
    real = getattr(Keyring, point)
    calls = {"n": 0}

    def then_crash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(self, *args, **kwargs)
        calls["n"] += 1
        if point != "put_grant" or calls["n"] == 2:  # after the recovery and admin grants
            raise Crash
        return result

    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        with monkeypatch.context() as patch:
            patch.setattr(Keyring, point, then_crash)
            with pytest.raises(Crash):
                rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                             rotation.Progress(), settle_seconds=0, signer=signer)
    assert family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)
    chain = trust.load_chain(keyring, "main", app.extensions["intake.settings"].root)
    current = keyring.current_epoch("main")
    assert current.id == max(chain.epochs) == 2
    assert chain.epochs[2] == current.public_key.raw
    assert family_can_send(app)
    with Session(app.extensions["intake.db"]) as db:
        assert {row.epoch_id for row in db.query(Submission)} == {2}


def test_vetting_killed_between_certificate_and_grant_is_finished_by_vetting_again(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificate is written first: a crash before the grant leaves a certified account
    that reads nothing; vetting it again grants without a second certificate."""
    from intake.staff import accounts
    from tests.review.conftest import page_token
    keyring, settings = keyring_of(app), app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        user, _ = accounts.create_user(db, keyring, name="shirin", role="reviewer",
                                       passphrase="shirin passphrase long",
                                       profile=settings.kdf_profile, today=dt.date.today(),
                                       root=settings.root)
        db.commit()
        user_id = user.id
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    token = page_token(admin, "/admin/")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr("intake.web.admin.views.grant_account", crash)
        heard = read_aloud(app, user_id)
        assert admin.post(f"/admin/users/{user_id}/grant",
                          data={"csrf_token": token, "fingerprint": heard}).status_code == 500
    count = len(keyring.certificates("main"))
    with Session(app.extensions["intake.db"]) as db:
        user = db.get(User, user_id)
        assert user is not None
        assert not accounts.is_vetted(keyring, "main", user, settings.root)
    heard = read_aloud(app, user_id)
    assert admin.post(f"/admin/users/{user_id}/grant",
                      data={"csrf_token": token, "fingerprint": heard}).status_code == 302
    assert len(keyring.certificates("main")) == count
    with Session(app.extensions["intake.db"]) as db:
        user = db.get(User, user_id)
        assert user is not None
        assert accounts.is_vetted(keyring, "main", user, settings.root)


# An instance from before certificates: warning mode, then `intake keys certify`.

def uncertified_instance(tmp_path: Path, users: tuple[tuple[str, str, str], ...]
                         ) -> tuple[Flask, dict[str, object], Any, Keyring, Any]:
    """An instance as made before certificates: no root, version 1 keys, granted epoch 1."""
    from intake.crypto import create_desk, grant_epoch
    from intake.desk.setup import write_config
    from intake.staff.accounts import create_user
    from intake.store.db import make_engine, upgrade
    from tests.conftest import instance_config
    config = instance_config(tmp_path)
    write_config(tmp_path / "instance", {k: v for k, v in config.items()
                                         if k in ("SECRET_KEY", "PEPPER", "KDF_PROFILE",
                                                  "CODE_KDF_PROFILE", "SESSION_COOKIE_SECURE")}
                 | {"DISK_FLOOR_BYTES": 1024 * 1024})
    app = create_app(dict(config))
    settings = app.extensions["intake.settings"]
    engine = make_engine(settings.database_url)
    upgrade(engine)
    keyring = Keyring(settings.keys_dir)
    desk = create_desk(keyring, "main", "desk", dt.date.today())
    with Session(engine) as db:
        for name, role, passphrase in users:
            _, keys = create_user(db, keyring, name=name, role=role, passphrase=passphrase,
                                  profile=settings.kdf_profile, today=dt.date.today())
            grant_epoch(keyring, desk.epoch, desk.epoch_key, keys.key.public_key)
        db.commit()
    return app, config, engine, keyring, desk


def test_an_instance_from_before_certificates_is_certified_and_its_accounts_upgraded(
        tmp_path: Path) -> None:
    from intake.crypto.passphrase import needs_upgrade
    from tests.review.conftest import page_token
    app, config, engine, keyring, desk = uncertified_instance(tmp_path, (
        ("admin", "admin", ADMIN_PASSPHRASE), ("reviewer", "reviewer", REVIEWER_PASSPHRASE)))
    runner = app.test_cli_runner()
    status = runner.invoke(main, args=["keys", "status"])
    assert "WARNING: this keyring is not certified yet" in status.output
    assert family_can_send(app)
    certified = runner.invoke(main, args=["keys", "certify", "--admin", "admin",
                                          "--passphrase-stdin"],
                              input=f"{ADMIN_PASSPHRASE}\n{desk.recovery_text}\n")
    assert certified.exit_code == 0, certified.output
    root = trust.server_root(keyring, "main", None)
    assert root is not None
    app = create_app({**config, "ROOT_FINGERPRINT": trust.fingerprint_text(root)})
    status = app.test_cli_runner().invoke(main, args=["keys", "status"])
    assert "accounts whose keys are not certified (they read nothing until an admin vets " \
           "them): reviewer" in status.output
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    with Session(engine) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        assert not needs_upgrade(keyring.user_key(user.id)[1])
        assert "در انتظار تأیید" in reviewer.get("/review/").get_data(as_text=True)
        user_id = user.id
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    heard = read_aloud(app, user_id)
    token = page_token(admin, "/admin/")
    assert admin.post(f"/admin/users/{user_id}/grant",
                      data={"csrf_token": token, "fingerprint": heard}).status_code == 302
    reviewer = app.test_client()
    from tests.review.conftest import totp_now
    assert log_in(app, reviewer, code=totp_now(app, "reviewer", 30)).status_code == 302
    assert "علی رضایی" in reviewer.get("/review/").get_data(as_text=True)
    assert "accounts whose keys" not in app.test_cli_runner().invoke(main,
        args=["keys", "status"]).output


def test_a_chain_cut_short_after_a_checkpoint_is_named_by_audit_verify(
        app: Flask, instance: Instance) -> None:
    """The newest certificate (here the reviewer's) is removed from the keyring: the chain
    that is left still verifies, but the checkpoint signed at the last login saw it."""
    assert log_in(app, app.test_client(), name="admin").status_code == 302
    assert cli(app, "audit", "verify").exit_code == 0
    newest = sorted(certs_dir(instance).glob("*.cert"))[-1]
    newest.unlink()
    trust.sealing_epoch(keyring_of(app), "main", app.extensions["intake.settings"].root)
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0
    assert "certificates were cut from the chain or replaced" in result.output


def test_a_forged_checkpoint_is_refused(app: Flask) -> None:
    """Someone with the database adds a checkpoint over a log they rewrote, signed with a key
    of their own: it is not a key the chain certified for the account it names."""
    from intake.store.models import AuditCheckpoint
    assert log_in(app, app.test_client(), name="admin").status_code == 302
    with Session(app.extensions["intake.db"]) as db:
        real = db.query(AuditCheckpoint).one()
        db.add(AuditCheckpoint(desk_id="main", count=real.count, hash=real.hash,
                               account_id=real.account_id, chain_length=real.chain_length,
                               chain_head=real.chain_head,
                               signature=SigningPrivateKey.generate().sign(b"x", trust_use())))
        db.commit()
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0
    assert "is not signed by a key this desk certified" in result.output


def test_an_export_carries_the_checkpoints_that_cover_the_case_and_their_chain(
        app: Flask) -> None:
    """Logging in after the case was viewed signs a checkpoint covering its trail: the bundle
    carries it and the certificates, and its signature verifies under the certified key of
    the account it names."""
    import io
    import zipfile

    from intake.crypto.chain import verify_chain
    from intake.desk.audit import check_checkpoints
    from tests.review.conftest import totp_now
    assert family_can_send(app)
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    with Session(app.extensions["intake.db"]) as db:
        case_id = db.query(Submission.id).scalar()
    reviewer.get(f"/review/{case_id}")
    again = app.test_client()
    assert log_in(app, again, code=totp_now(app, "reviewer", 30)).status_code == 302
    from intake.evidence.bag import BagReader
    bag = BagReader(zipfile.ZipFile(io.BytesIO(again.get(f"/review/{case_id}/export").get_data())))
    login, export = json.loads(bag.read("custody/checkpoints.json"))
    blobs = [bag.read(name) for name in sorted(bag.paths)
             if name.startswith("custody/certificates/")]
    chain = verify_chain(app.extensions["intake.settings"].root, "main", blobs)
    assert login["certificates"] == export["certificates"] == len(blobs) == chain.length
    # The export signs a checkpoint of its own, over the log up to its own entry.
    trail = json.loads(bag.read("data/audit-trail.json"))
    assert trail[-1]["action"] == "export"
    assert export["head"] == trail[-1]["hash"]
    with Session(app.extensions["intake.db"]) as db:
        assert check_checkpoints(db, chain, blobs) == (3, export["entries"])


def test_storing_a_submission_checks_the_chain_itself(app: Flask) -> None:
    """The check right before sealing does not rely on the page guard: a submission stored
    by any other path (a form opened before the keyring was changed) is refused too."""
    from intake.testimonies.submissions import NewSubmission, store_submission
    from intake.testimonies.uploads import UploadBatch
    desk = app.extensions["intake.desk"]
    plant_epoch(desk.keyring)
    with Session(app.extensions["intake.db"]) as db:
        with pytest.raises(trust.TrustError, match="newest certified epoch is 1"):
            store_submission(db, desk, NewSubmission(answers={"name": "x"},
                                                     batch=UploadBatch(desk.store, 0, 0)),
                             dt.date.today())
        assert db.query(Submission).count() == 0


def test_a_rotation_grants_nothing_to_a_public_key_swapped_in_the_keyring(
        app: Flask, instance: Instance) -> None:
    """The reviewer's public key in the keyring is replaced by the attacker's before a
    rotation: the rotation grants the new epoch only to keys the chain certifies."""
    import base64

    from intake.desk import rotation
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        reviewer_id = db.query(User).filter_by(name="reviewer").one().id
    attacker = PrivateKey.generate()
    path = instance.keys_dir / "users" / f"{reviewer_id}.json"
    entry = json.loads(path.read_text())
    entry["public_key"] = base64.b64encode(attacker.public_key.raw).decode()
    path.write_text(json.dumps(entry))
    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)
    assert keyring.current_epoch("main").id == 2
    assert keyring.grant("main", 2, attacker.fingerprint) is None
    assert unlock_epochs(keyring, attacker) == {}


def test_a_certificate_added_between_two_reads_is_not_taken_for_a_cut_chain(
        app: Flask, instance: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rotation on another server certifies its epoch and records the longer chain while
    this server is between reading the certificates and reading that record: the first
    reading looks one certificate short. Read again, it is whole, and nothing goes offline
    (a family would otherwise lose the answers it was sending)."""
    from intake.desk import rotation
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)
    real = Keyring.certificates
    reads = {"n": 0}

    def first_read_is_stale(self: Keyring, desk_id: str) -> list[bytes]:
        reads["n"] += 1
        blobs = real(self, desk_id)
        return blobs[:-1] if reads["n"] == 1 else blobs

    monkeypatch.setattr(Keyring, "certificates", first_read_is_stale)
    desk = app.extensions["intake.desk"]
    with Session(app.extensions["intake.db"]) as db:
        epoch = trust.sealing_epoch(keyring, "main", desk.root, db, desk.water)
    assert epoch.id == 2
    assert reads["n"] > 2
