"""Attacks on the signed keyring that still work (issue 10 review): each test fails on main.

The attacker can write the keyring folder, the database and backup files, and
knows no passphrase and no recovery key; or is a revoked reviewer or admin who
kept every key they ever held (epoch keys, private keys, signing key), and
also knows their own passphrase and TOTP secret. Each test plays the attack
as they would, then uses the instance as the family, the admin or the
operator does, and asserts the property the signed keyring promises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from intake.cli import main
from intake.crypto import Keyring, PrivateKey, SigningPrivateKey, unlock_epochs
from intake.crypto.certs import parse_certificate
from intake.crypto.signing import Use
from intake.desk import audit, rotation, trust
from intake.store.models import AuditCheckpoint, AuditEvent, AuditHead, Submission, User
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, Instance
from tests.review.conftest import log_in, page_token
from tests.test_signed_keyring import (
    certs_dir,
    family_can_send,
    keyring_of,
    made,  # noqa: F401 (a fixture)
    restore_with,
    sign_next,
)
from tests.unlock import read_aloud, unlock_user

ALARM = "هشدار کلیدها: دست نگه دارید"  # "Keyring alarm: stop", in the default Persian


def cli(app: Flask, *args: str, input: str = ""):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, args=list(args), input=input)


def user_id(app: Flask, name: str) -> str:
    with Session(app.extensions["intake.db"]) as db:
        return db.query(User).filter_by(name=name).one().id


def sealed_epochs(app: Flask) -> set[int]:
    with Session(app.extensions["intake.db"]) as db:
        return {row.epoch_id for row in db.query(Submission)}


def log_in_again(app: Flask, name: str):  # type: ignore[no-untyped-def]
    """Log in once more in the same 30 s (the harness forgets the spent code, not the attack)."""
    with Session(app.extensions["intake.db"]) as db:
        db.query(User).filter_by(name=name).one().totp_last_step = 0
        db.commit()
    return log_in(app, app.test_client(), name=name)


def revoke_in_admin_page(app: Flask, name: str) -> None:
    """The admin revokes an account in /admin/ (its session signs the revocation)."""
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    assert admin.post(f"/admin/users/{user_id(app, name)}/revoke",
                      data={"csrf_token": page_token(admin, "/admin/"),
                            "confirmed": "y"}).status_code == 200


def rotate(app: Flask, instance: Instance) -> None:
    """The admin rotates the desk, as `intake keys rotate` does."""
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, instance.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)


def cut_chain(instance: Instance, keep: int) -> None:
    """Delete every certificate from sequence number `keep` on, as a keyring writer can."""
    for path in sorted(certs_dir(instance).glob("*.cert"))[keep:]:
        path.unlink()


def revoked_reviewer_after_rotation(app: Flask, instance: Instance) -> PrivateKey:
    """Revoke the reviewer (revocation certified), rotate; return the epoch-1 key they kept."""
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "reviewer", REVIEWER_PASSPHRASE)
    kept = unlock_epochs(keyring, keys.key)[("main", 1)]
    revoke_in_admin_page(app, "reviewer")
    rotate(app, instance)
    kinds = [parse_certificate(blob).kind.value for blob in keyring.certificates("main")]
    # root, epoch 1, the reviewer's account, its revocation, epoch 2
    assert kinds == ["root", "epoch", "account", "revocation", "epoch"]
    assert keyring.current_epoch("main").id == 2
    return kept


def test_a_chain_cut_before_the_rotation_seals_new_testimony_to_the_key_a_revoked_reviewer_kept(
        app: Flask, instance: Instance) -> None:
    """CRITICAL. The reviewer is revoked (the revocation is certified) and the desk rotated
    to epoch 2, as the runbook says. The revoked reviewer kept epoch 1's private key and can
    write the keyring: they delete the last two certificate files (the revocation and epoch
    2's certificate) and set desk.json's current epoch back to 1. What is left is a valid
    prefix of the real chain, so the server's check passes: its newest certified epoch is 1
    and new testimony is sealed to epoch 1, which the revoked reviewer opens. No signing key
    is needed, nothing is forged. The family side must refuse a chain shorter than one it has
    already trusted (here: a checkpoint signed after the rotation saw 5 certificates)."""
    revoked_reviewer_after_rotation(app, instance)
    assert log_in_again(app, "admin").status_code == 302  # its checkpoint saw 5 certificates
    cut_chain(instance, keep=3)
    keyring_of(app).set_current_epoch("main", 1)
    family_can_send(app)
    assert 1 not in sealed_epochs(app), "new testimony was sealed to the revoked reviewer's epoch"


def test_a_login_accepts_a_chain_cut_short_silently(app: Flask, instance: Instance) -> None:
    """HIGH. Same cut as above (revocation and epoch 2 certificates deleted, epoch 1 current).
    The admin logged in after the rotation, so its own signed checkpoint records that it
    trusted a chain of 5 certificates ending in epoch 2's. Its next login is accepted with
    no alarm, and signs a new checkpoint over the shorter chain: the session never compares
    the chain with what this account already trusted. Expected: the alarm page (409)."""
    revoked_reviewer_after_rotation(app, instance)
    assert log_in_again(app, "admin").status_code == 302
    cut_chain(instance, keep=3)
    keyring_of(app).set_current_epoch("main", 1)
    response = log_in_again(app, "admin")
    assert response.status_code == 409, "the login accepted a chain cut short"
    assert ALARM in response.get_data(as_text=True)


def swap_keys(instance: Instance, keyring: Keyring, account: str) -> tuple[PrivateKey,
                                                                            SigningPrivateKey]:
    """Replace an account's public keys in the keyring with the attacker's (keeping its
    wrapped blob); return the attacker's private keys."""
    hpke, signing = PrivateKey.generate(), SigningPrivateKey.generate()
    keyring.put_user_key(account, hpke.public_key, keyring.user_key(account)[1],
                         signing.public_key.raw)
    return hpke, signing


def test_vetting_certifies_and_grants_keys_swapped_into_the_keyring(
        app: Flask, instance: Instance) -> None:
    """HIGH. An admin invites shirin as an admin; she enrols. Before an admin vets her, the
    attacker (who can write the keyring) replaces her HPKE and signing public keys in
    users/<id>.json by their own. The admin clicks "grant" for shirin: the session certifies
    whatever keys the keyring holds for her (`trust.certify_account` reads them from the
    keyring) and grants the current epoch to that key. The attacker now holds a grant of the
    current epoch and a signing key the chain certifies as admin: they certify an epoch of
    their own, make it current, and the family side seals to it. Shirin's own login would
    raise the alarm, but only after all of that."""
    from intake.staff.accounts import create_user
    keyring, settings = keyring_of(app), app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        user, _ = create_user(db, keyring, name="shirin", role="admin",
                              passphrase="shirin passphrase long",
                              profile=settings.kdf_profile, today=dt.date.today(),
                              root=settings.root)
        db.commit()
        shirin = user.id
    # What shirin saw on her enrolment page, and reads to the admin by phone (fixed: the
    # admin types it, and it must be the start of the fingerprint of the keys certified).
    heard = read_aloud(app, shirin)
    hpke, signing = swap_keys(instance, keyring, shirin)
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    refused = admin.post(f"/admin/users/{shirin}/grant", query_string={"lang": "en"},
                         data={"csrf_token": page_token(admin, "/admin/"), "fingerprint": heard})
    assert "not the start of this account's key fingerprint" in refused.get_data(as_text=True)
    granted = keyring.grant("main", 1, hpke.public_key.fingerprint) is not None
    sign_next(instance, signing)  # the attacker certifies an epoch of their own
    sent = family_can_send(app)
    assert not granted, "the current epoch was granted to the attacker's key"
    assert not sent or 2 not in sealed_epochs(app), "testimony sealed to the attacker's epoch"


def test_recover_certifies_keys_swapped_into_the_keyring(app: Flask, instance: Instance) -> None:
    """HIGH. The attacker replaces the admin's public keys in the keyring by their own. The
    operator runs `intake recover --admin admin` with the printed recovery key (the admin
    lost access): the recovery key certifies whatever keys the keyring holds for the admin,
    as admin, and every epoch is granted to the attacker's key."""
    keyring = keyring_of(app)
    admin_id = user_id(app, "admin")
    heard = read_aloud(app, admin_id)  # what the admin saw at enrolment (fixed: asked for)
    hpke, signing = swap_keys(instance, keyring, admin_id)
    recovery = instance.initialised.recovery_text if instance.initialised else ""
    refused = cli(app, "recover", "--admin", "admin", input=f"{recovery}\n{heard}\n")
    assert refused.exit_code != 0
    assert "the keys may have been swapped" in refused.output
    chain = trust.load_chain(keyring, "main", app.extensions["intake.settings"].root)
    assert chain.accounts[admin_id].signing != signing.public_key.raw, \
        "the recovery key certified the attacker's signing key as admin"
    assert keyring.grant("main", 1, hpke.public_key.fingerprint) is None


def test_a_revocation_from_the_command_line_leaves_the_admin_able_to_certify_epochs(
        app: Flask, instance: Instance) -> None:
    """HIGH. Darius, an admin, is revoked from the command line. Unsigned (no passphrase),
    the revocation would wait for the next admin login or rotation, and in that window
    darius, who kept his signing key and can write the keyring, could certify an epoch of
    his own that the family side seals to. So revoking a certified admin needs another
    admin's passphrase (--admin), and the revocation is certified at once."""
    from tests.test_signed_keyring import add_certified_admin
    darius = add_certified_admin(app, "darius")
    refused = cli(app, "users", "revoke", "darius")
    assert refused.exit_code != 0
    assert "pass --admin NAME" in refused.output
    signed = app.test_cli_runner().invoke(main,
        args=["users", "revoke", "darius", "--admin", "admin", "--passphrase-stdin"],
        input=f"{ADMIN_PASSPHRASE}\n")
    assert signed.exit_code == 0, signed.output
    assert darius.signing_key is not None
    sign_next(instance, darius.signing_key)
    family_can_send(app)
    assert 2 not in sealed_epochs(app), "testimony sealed to the revoked admin's epoch"


def test_a_backup_stripped_of_its_certificates_restores_without_any_question(
        instance: Instance, made: Path, tmp_path: Path) -> None:  # noqa: F811
    """HIGH. The attacker edits a stored backup: deletes every certificate (and recomputes
    the manifest). `intake restore PATH` without --root then treats it as a backup from
    before certificates: it prints a warning and restores, with no prompt, and config.py
    pins no root, so the restored server runs in warning mode and seals to whatever epoch
    the keyring names. Yet every account's wrapped key in the backup pins a root (format 2):
    this keyring had a chain, and it was deleted. The operator answers "no" to any question
    here; the restore must be refused."""
    from tests.test_backup_archives import entries, write_archive
    items = [(info, data) for info, data in entries(made) if "/certs/" not in info.name]
    edited = write_archive(tmp_path / "edited.tar", items)
    result = restore_with(edited, tmp_path / "new", answer="n\n")
    assert result.exit_code != 0, result.output
    assert not (tmp_path / "new" / "instance" / "config.py").exists()


def test_a_revoked_reviewer_signs_a_checkpoint_over_a_rewritten_log(
        app: Flask, instance: Instance) -> None:
    """MEDIUM. The reviewer is revoked (certified). Keeping their signing key, with the
    database in hand, they rewrite the audit log from its first entry (chain and head
    recomputed), delete the checkpoints, and sign a new checkpoint over the new head and the
    current chain with their revoked key. `intake audit verify` reports the log intact and
    covered by a signed checkpoint: `check_checkpoints` accepts any key the account was ever
    certified with, even for a checkpoint that saw the chain after the account's revocation."""
    assert log_in(app, app.test_client()).status_code == 302
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "reviewer", REVIEWER_PASSPHRASE)
    revoke_in_admin_page(app, "reviewer")
    assert keys.signing_key is not None
    chain = trust.load_chain(keyring, "main", app.extensions["intake.settings"].root)
    with Session(app.extensions["intake.db"]) as db:
        prev = audit.GENESIS
        for event in db.query(AuditEvent).order_by(AuditEvent.seq):
            if event.action == "revoke":
                event.detail = "rewritten"
            event.prev_hash = prev
            event.hash = audit._digest(prev, event.at, event.actor_id, event.action,
                                       event.subject_id, event.detail)
            prev = event.hash
        head = db.get(AuditHead, 1)
        assert head is not None
        head.hash = prev
        db.query(AuditCheckpoint).delete()
        forged = AuditCheckpoint(desk_id="main", count=head.count, hash=head.hash,
                                 account_id=user_id(app, "reviewer"), chain_length=chain.length,
                                 chain_head=chain.head.hex(), signature=b"")
        forged.signature = keys.signing_key.sign(audit._checkpoint_message(forged),
                                                 Use.AUDIT_CHECKPOINT)
        db.add(forged)
        db.commit()
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0, result.output


def test_an_unpinned_upgrade_pins_a_root_planted_in_the_keyring(tmp_path: Path) -> None:
    """MEDIUM. An instance made before certificates (warning mode, no ROOT_FINGERPRINT). The
    attacker writes a chain of their own into the keyring, rooted in their key, certifying
    an epoch they planted and made current. The server now reads its root from that chain
    (`trust.server_root` falls back to the keyring's first certificate): `keys status` now
    shows the attacker's root with only the "config.py does not pin" warning, and `intake
    keys certify` refuses ("certified already"). The reviewer's next login then wraps the
    attacker's root into its key for good (`refresh_at_login` pins the root read from the
    keyring), so from then on its logins check the chain against the attacker's root. A
    root read from the attacker-writable keyring must never be pinned into an account."""
    from intake.crypto import unlock_account
    from tests.test_signed_keyring import replace_chain, uncertified_instance
    app, config, engine, keyring, _ = uncertified_instance(
        tmp_path, (("reviewer", "reviewer", REVIEWER_PASSPHRASE),))
    attacked = Instance(tmp_path / "instance", tmp_path / "keys", config)
    certs_dir(attacked).mkdir()  # replace_chain removes it first
    replace_chain(attacked)
    attacker_root = trust.server_root(keyring, "main", None)
    log_in(app, app.test_client())
    with Session(engine) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        pinned = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier,
                                REVIEWER_PASSPHRASE).root
    assert pinned != attacker_root, "the reviewer's key now pins the attacker's root"



def test_a_revocation_written_into_the_database_is_signed_at_the_next_admin_login(
        app: Flask) -> None:
    """MEDIUM (lock-out). Someone who can write only the database sets the reviewer's state
    to "revoked" (no admin revoked anyone). At the admin's next login, `certify_revocations`
    signs a revocation certificate for every account the database calls revoked, without
    asking: the reviewer is now revoked in the chain for good (a revoked account can never
    be certified again), by a certificate the admin never decided on. Done to every other
    admin, it leaves a desk whose admins cannot be restored without new accounts."""
    with Session(app.extensions["intake.db"]) as db:
        db.query(User).filter_by(name="reviewer").one().state = "revoked"
        db.commit()
    assert log_in(app, app.test_client(), name="admin").status_code == 302
    kinds = [parse_certificate(blob).kind.value
             for blob in keyring_of(app).certificates("main")]
    assert "revocation" not in kinds, "the admin's login signed a revocation nobody decided"


def test_a_rotation_grants_every_new_epoch_to_a_recovery_key_swapped_into_the_keyring(
        app: Flask, instance: Instance) -> None:
    """CRITICAL (fixed: the root certificate now names the recovery key's HPKE key too, and a
    rotation grants new epochs only to that one). The recovery key's HPKE public key
    (desks/main/recovery.json) was certified nowhere. Someone who can
    write the keyring (a revoked reviewer, say) replaces it with a public key of their own.
    The admin rotates, as the runbook says to after a revocation: `rotation._new_epoch`
    grants the new epoch to whatever recovery key the keyring holds, so the attacker opens
    the new epoch's private key, and with it everything sealed after the rotation. Nothing
    alarms: no login, no `keys status`, no `audit verify` reads that file against the chain."""
    keyring = keyring_of(app)
    attacker = PrivateKey.generate()
    keyring.set_recovery_key("main", attacker.public_key)
    with pytest.raises(rotation.RotationError, match="recovery key in the keyring is not"):
        rotate(app, instance)
    assert keyring.current_epoch("main").id == 1
    assert all(keyring.grant("main", epoch.id, attacker.public_key.fingerprint) is None
               for epoch in keyring.epochs("main"))
    status = app.test_cli_runner().invoke(main, args=["keys", "status"])
    assert "ALARM" in status.output
    assert "recovery key" in status.output


def test_a_revocation_certificate_deleted_before_the_rotation_gets_the_revoked_reviewer_the_new_epoch(  # noqa: E501
        app: Flask, instance: Instance) -> None:
    """CRITICAL. The admin revokes the reviewer in /admin/ (its session certifies the
    revocation, after the login's checkpoint was signed). Before the rotation that follows,
    the revoked reviewer, who kept epoch 1's key and can write the keyring and the database,
    deletes the revocation certificate (the newest one), sets their state back to "active"
    and writes themselves a grant of epoch 1 (sealing the key they kept to their own public
    key). The rotation checks a chain that is a valid prefix of the real one, finds them
    certified and active and holding a grant, grants them epoch 2, and certifies epoch 2
    right after the remaining certificates: the revocation is gone for good. The only
    checkpoint saw the chain before the revocation, so `intake audit verify` sees nothing
    either."""
    from intake.crypto import grant_epoch
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "reviewer", REVIEWER_PASSPHRASE)
    kept = unlock_epochs(keyring, keys.key)[("main", 1)]
    revoke_in_admin_page(app, "reviewer")
    newest = sorted(certs_dir(instance).glob("*.cert"))[-1]
    assert parse_certificate(newest.read_bytes()).kind.value == "revocation"
    newest.unlink()
    with Session(app.extensions["intake.db"]) as db:
        db.query(User).filter_by(name="reviewer").one().state = "active"
        db.commit()
    grant_epoch(keyring, keyring.epoch("main", 1), kept, keys.key.public_key)
    # Fixed: the revocation was remembered outside the keyring when it was issued
    # (chain-heads.json), so the cut chain stops the rotation before it grants anything.
    with pytest.raises(rotation.RotationError, match="certificates were cut"):
        rotate(app, instance)
    assert keyring.current_epoch("main").id == 1
    assert all(keyring.grant("main", epoch.id, keys.key.fingerprint) is None
               for epoch in keyring.epochs("main") if epoch.id > 1)


def test_a_rotation_resumes_and_certifies_an_epoch_planted_in_the_keyring(
        app: Flask, instance: Instance) -> None:
    """CRITICAL. Someone who can write the keyring (no signing key, no passphrase) adds an
    epoch 2 whose private key they made, not current, and seals that key to the admin's
    public key (a grant file needs only the recipient's public key). To the rotation this
    looks like its own run that stopped before switching: `rotation._pending` resumes it,
    the admin's signing key certifies it, it becomes current and every record is re-sealed
    to it. The attacker now reads all testimony, old and new, under a certified epoch."""
    from intake.crypto import grant_epoch
    keyring = keyring_of(app)
    attacker = PrivateKey.generate()
    planted = keyring.add_epoch("main", attacker.public_key, dt.date.today())
    admin_public = keyring.user_key(user_id(app, "admin"))[0]
    grant_epoch(keyring, planted, attacker, admin_public)
    assert family_can_send(app)  # a record sealed to epoch 1, to be re-sealed
    rotate(app, instance)
    current = keyring.current_epoch("main")
    assert current.public_key.raw != attacker.public_key.raw, \
        "the rotation certified and switched to the attacker's epoch"


def test_a_rotation_never_reseals_to_a_current_epoch_the_chain_does_not_certify(
        app: Flask, instance: Instance) -> None:
    """CRITICAL (the same hole by the other door). The attacker plants an epoch 2 of their
    own with a grant to the admin, as above, and makes it current. The family side goes
    offline (epoch 2 is not certified); the admin runs the rotation to set things right.
    `begin` sees epoch 1 neither current nor retired, takes it for an unfinished rotation,
    resumes with whatever epoch desk.json names as current, and re-seals every record to
    the attacker's epoch."""
    from intake.crypto import grant_epoch
    keyring = keyring_of(app)
    assert family_can_send(app)
    attacker = PrivateKey.generate()
    planted = keyring.add_epoch("main", attacker.public_key, dt.date.today())
    grant_epoch(keyring, planted, attacker, keyring.user_key(user_id(app, "admin"))[0])
    keyring.set_current_epoch("main", planted.id)
    with contextlib.suppress(rotation.RotationError):
        rotate(app, instance)
    assert planted.id not in sealed_epochs(app), "every record was re-sealed to the attacker"


def test_an_enrolment_on_an_unpinned_server_pins_a_root_planted_in_the_keyring(
        instance: Instance) -> None:
    """MEDIUM (same cause as the upgrade above). config.py names no ROOT_FINGERPRINT (an
    instance restored or certified before it was pinned); the attacker replaces the chain
    with one of their own. A new reviewer enrols from a one-time link: `_redeem` pins
    `trust.server_root`, the root read from the keyring, inside the new account's wrapped
    keys, so this account trusts the attacker's chain for good."""
    from intake import create_app
    from intake.crypto import unlock_account
    from intake.staff import invites
    from intake.web.database import get_session
    from tests.admin.conftest import NEW_PASSPHRASE, enrol
    from tests.test_signed_keyring import replace_chain
    replace_chain(instance)
    app = create_app({**instance.config, "ROOT_FINGERPRINT": ""})
    attacker_root = trust.server_root(keyring_of(app), "main", None)
    with app.app_context():
        token = invites.create(get_session(), "nasrin", "reviewer", int(dt.datetime.now(
            dt.UTC).timestamp()))
        get_session().commit()
    assert enrol(app, f"/enrol/{token}").status_code == 200
    with Session(app.extensions["intake.db"]) as db:
        user = db.query(User).filter_by(name="nasrin").one()
        pinned = unlock_account(keyring_of(app).user_key(user.id)[1], user.passphrase_verifier,
                                NEW_PASSPHRASE).root
    assert pinned != attacker_root, "the new account pins the attacker's root"


def test_an_account_awaiting_vetting_logs_in_without_breaking_audit_verify(app: Flask) -> None:
    """MEDIUM (a false alarm that masks real ones). Shirin enrolled and is not vetted yet; she
    logs in (allowed: she sees "awaiting vetting"). Her unlock signs a checkpoint with a key
    no certificate names, so `intake audit verify` reports checkpoint 1 "forged or edited",
    and, since it stops at the first bad checkpoint, says nothing about any later rewrite.
    If shirin is never vetted, that stays so for good. A checkpoint must be signed only by a
    key the chain certifies for its account."""
    from intake.staff.accounts import create_user
    from tests.review.conftest import totp_now
    keyring, settings = keyring_of(app), app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        create_user(db, keyring, name="shirin", role="reviewer",
                    passphrase="shirin passphrase long", profile=settings.kdf_profile,
                    today=dt.date.today(), root=settings.root)
        db.commit()
    assert log_in(app, app.test_client(), name="shirin", passphrase="shirin passphrase long",
                  code=totp_now(app, "shirin")).status_code == 302
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output


def test_a_backup_whose_chain_was_cut_short_restores_with_the_right_root(
        app: Flask, instance: Instance, tmp_path: Path) -> None:
    """HIGH. The admin logs in (its checkpoint records a chain of 3 certificates) and a
    backup is made. The attacker edits the stored backup: deletes the newest certificate
    (here the reviewer's; in real life the revocation of an account they hold) and
    recomputes the manifest. `intake restore --root` with the right fingerprint accepts it:
    the shorter chain is a valid prefix, and the backup's own signed checkpoint, which
    says the chain was longer, is not looked at until someone runs `intake audit verify`
    after the restore. The restore must refuse a keyring its own checkpoints contradict."""
    from intake.desk import backup
    from intake.desk.setup import write_config
    from tests.test_backup_archives import entries, write_archive
    assert log_in(app, app.test_client(), name="admin").status_code == 302
    write_config(instance.instance_path, {"ORGANISATION_NAME": "Justice for Iran"})
    made_now = backup.write_backup(instance.instance_path, instance.keys_dir,
                                   tmp_path / "made.tar")
    assert made_now.count > 0
    items = [(info, data) for info, data in entries(tmp_path / "made.tar")
             if not info.name.endswith("certs/000002.cert")]
    edited = write_archive(tmp_path / "edited.tar", items)
    root = instance.initialised.root_text if instance.initialised else ""
    result = restore_with(edited, tmp_path / "new", "--root", root)
    assert result.exit_code != 0, result.output
    assert not (tmp_path / "new" / "instance" / "config.py").exists()


def test_a_chain_cut_with_the_checkpoints_deleted_still_rolls_sealing_back(
        app: Flask, instance: Instance) -> None:
    """CRITICAL, still open. As the first test, but the revoked reviewer can also write the
    database and deletes every audit checkpoint (nothing else needs changing: checkpoints
    sit beside the log, not in its hash chain). Nothing the server can read remembers the
    longer chain, so new testimony is sealed to epoch 1 again. Needs a high-water mark the
    attacker cannot write or roll back (each account pinning the chain length and head in
    its wrapped keys at every login, the server refusing to seal below the highest one an
    unlocked session has reported)."""
    revoked_reviewer_after_rotation(app, instance)
    assert log_in_again(app, "admin").status_code == 302
    cut_chain(instance, keep=3)
    keyring_of(app).set_current_epoch("main", 1)
    with Session(app.extensions["intake.db"]) as db:
        db.query(AuditCheckpoint).delete()
        db.commit()
    family_can_send(app)
    assert 1 not in sealed_epochs(app), "new testimony was sealed to the revoked reviewer's epoch"


def test_a_rotation_on_a_chain_cut_after_a_checkpoint_stops(
        app: Flask, instance: Instance) -> None:
    """HIGH (the case a checkpoint does cover). As the deleted-revocation test above, but an
    admin logged in after the revocation was certified, so a checkpoint saw it. The rotation
    must stop rather than re-grant the revoked reviewer on the shorter chain."""
    from intake.crypto import grant_epoch
    keyring = keyring_of(app)
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "reviewer", REVIEWER_PASSPHRASE)
    kept = unlock_epochs(keyring, keys.key)[("main", 1)]
    revoke_in_admin_page(app, "reviewer")
    assert log_in_again(app, "admin").status_code == 302  # its checkpoint saw the revocation
    sorted(certs_dir(instance).glob("*.cert"))[-1].unlink()
    with Session(app.extensions["intake.db"]) as db:
        db.query(User).filter_by(name="reviewer").one().state = "active"
        db.commit()
    grant_epoch(keyring, keyring.epoch("main", 1), kept, keys.key.public_key)
    with contextlib.suppress(rotation.RotationError):
        rotate(app, instance)
    assert all(keyring.grant("main", epoch.id, keys.key.fingerprint) is None
               for epoch in keyring.epochs("main") if epoch.id > 1), \
        "the rotation granted the new epoch to the revoked reviewer"


def test_a_reviewer_revoked_unsigned_from_the_command_line_would_stay_certified(
        app: Flask) -> None:
    """HIGH. A reviewer revoked from the command line with nothing signed stays certified in
    the chain: if they can write the database they set themselves active again, plant a grant
    of the epoch key they kept, and the next rotation grants them its epoch. So the command
    refuses a certified account without --admin, and with it the revocation is certified."""
    refused = cli(app, "users", "revoke", "reviewer")
    assert refused.exit_code != 0
    assert "pass --admin NAME" in refused.output
    assert user_state(app, "reviewer") == "active"  # nothing was changed
    signed = app.test_cli_runner().invoke(main,
        args=["users", "revoke", "reviewer", "--admin", "admin", "--passphrase-stdin"],
        input=f"{ADMIN_PASSPHRASE}\n")
    assert signed.exit_code == 0, signed.output
    chain = trust.load_chain(keyring_of(app), "main", app.extensions["intake.settings"].root)
    assert user_id(app, "reviewer") in chain.revoked


def user_state(app: Flask, name: str) -> str:
    with Session(app.extensions["intake.db"]) as db:
        return str(db.query(User).filter_by(name=name).one().state)
