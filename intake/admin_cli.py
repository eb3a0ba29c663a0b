"""Admin commands: users, keys (status, rotation) and recovery."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import audit, instance_config, rotation, trust
from .accounts import is_vetted, revoke, store_keys
from .bound import get_settings
from .crypto import (
    AccountKeys,
    DecryptionError,
    Epoch,
    Keyring,
    PrivateKey,
    SigningPrivateKey,
    grant_epoch,
    open_epoch_key,
    parse_recovery_secret,
    recovery_key,
    recovery_signing_key,
    rewrap,
    unlock_account,
)
from .crypto.signing import parse_fingerprint
from .db import make_engine
from .models import User


def read_passphrase(from_stdin: bool, prompt: str, confirm: bool = True) -> str:
    """Read a secret from standard input or a hidden prompt, never from argv."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    passphrase: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return passphrase


def _context() -> tuple[Any, Keyring, Session]:
    settings = get_settings()
    if settings is None:
        raise click.ClickException("the instance is not set up: run `intake init`")
    keyring = Keyring(settings.keys_dir)
    return settings, keyring, Session(make_engine(settings.database_url))


def _user(db: Session, name: str) -> User:
    user = db.query(User).filter_by(name=name).one_or_none()
    if user is None:
        raise click.ClickException(f"there is no user called {name}")
    return user


def _admin_key(db: Session, keyring: Keyring, name: str, from_stdin: bool) -> tuple[User,
                                                                                   AccountKeys]:
    admin, keys, _ = _admin_unlock(db, keyring, name, from_stdin)
    return admin, keys


def _admin_unlock(db: Session, keyring: Keyring, name: str,
                  from_stdin: bool) -> tuple[User, AccountKeys, str]:
    """Unlock a vetted admin's keys from its passphrase, checking the chain as a login does."""
    admin = _user(db, name)
    if admin.role != "admin" or admin.state != "active":
        raise click.ClickException(f"{name} is not an active admin")
    # A rotation grants its new epoch to the rotating admin: only a vetted one may start it.
    settings = get_settings()
    if not is_vetted(keyring, settings.desk_id, admin, settings.root):
        raise click.ClickException(f"{name} is not vetted: another admin must grant them "
                                   "access first (or run `intake recover`)")
    passphrase = read_passphrase(from_stdin, f"Passphrase for {name}", confirm=False)
    try:
        keys = unlock_account(keyring.user_key(admin.id)[1], admin.passphrase_verifier,
                              passphrase)
    except DecryptionError:
        raise click.ClickException("that passphrase is not right; nothing was changed") from None
    # The same check as a login: never sign or rotate on a keyring that does not chain to
    # the root this admin's keys pin.
    try:
        _, chain = trust.at_login(keyring, settings.desk_id, admin, keys, {})
        if chain is not None:
            trust.check_not_cut(db, keyring, chain, trust.high_water(settings.instance_path))
    except trust.TrustError as exc:
        raise click.ClickException(f"ALARM, nothing was changed: {exc}") from None
    return admin, keys, passphrase


@click.group("users")
def users_group() -> None:
    """Reviewer and admin accounts."""


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts, their role and state."""
    _, _, db = _context()
    with db:
        for user in db.query(User).order_by(User.name):
            click.echo(f"{user.name:24} {user.role:9} {user.state}")


@users_group.command("invite")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), required=True)
@click.option("--base-url", default=None, help="Address of this service (default BASE_URL).")
@with_appcontext
def users_invite(name: str, role: str, base_url: str | None) -> None:
    """Make a one-time, expiring enrolment link for a new account."""
    from . import invites
    from .accounts import AccountError

    _, _, db = _context()
    base = (base_url or current_app.config.get("BASE_URL") or "http://127.0.0.1:8000")
    with db:
        try:
            token = invites.create(db, name, role, int(time.time()))
        except AccountError as exc:
            raise click.ClickException(f"{exc}; nothing was changed") from None
        audit.record(db, None, "invite", detail=role)
        db.commit()
    click.echo(f"One-time link for {name} ({role}), valid for three days:\n"
               f"  {base.rstrip('/')}/enrol/{token}\n"
               "They will see nothing until an admin grants them access in /admin/.")


@users_group.command("revoke")
@click.argument("name")
@click.option("--admin", "admin_name", default=None,
              help="A certified admin who signs the revocation (asked for their passphrase). "
                   "Needed to revoke a certified account.")
@click.option("--passphrase-stdin", is_flag=True)
@with_appcontext
def users_revoke(name: str, admin_name: str | None, passphrase_stdin: bool) -> None:
    """Revoke an account: delete its grants and live sessions at once."""
    settings, keyring, db = _context()
    with db:
        user = _user(db, name)
        signer = _revocation_signer(db, keyring, settings, user, admin_name, passphrase_stdin)
        # Never waits for a rotation: the rotation re-checks every grant against the state.
        deleted, ended = revoke(db, keyring, user)
        audit.record(db, None, "revoke", user.id, f"grants:{deleted} sessions:{ended}")
        db.commit()
        if signer is not None:
            trust.certify_revocation(keyring, settings.desk_id, signer, user.id, dt.date.today(),
                                     trust.high_water(settings.instance_path))
    click.echo(f"{name} is revoked: {deleted} grants destroyed, {ended} sessions ended.")
    if signer is not None:
        click.echo(f"The revocation is certified: nothing {name} signs from now on is accepted.")
    elif keyring.certificates(settings.desk_id):
        click.echo("The revocation is not in the certificate chain yet (the database and the "
                   "destroyed grants already shut the account out); to certify it, run this "
                   "command again with --admin NAME.")
    if rotation.running(settings.instance_path, settings.desk_id):
        click.echo("A rotation (or backup) is running now; they may have seen its new key. "
                   "When it has finished, rotate once more:")
    else:
        click.echo("They may still hold epoch keys they saw. Rotate the desk keys now:")
    click.echo(f"  intake keys rotate --admin ADMIN   (desk {settings.desk_id})")


def _revocation_signer(db: Session, keyring: Keyring, settings: Any, user: User,
                       admin_name: str | None, from_stdin: bool) -> trust.Signer | None:
    """Return who signs this revocation; refuse to revoke a certified account unsigned.

    Until its revocation is in the chain, a certified account stays certified: a revoked
    admin who kept its signing key could certify an epoch of its own, and a revoked
    reviewer who can write the database could set itself active again, plant a grant of
    the epoch key it kept, and be granted the next rotation's epoch.
    """
    root = trust.server_root(keyring, settings.desk_id, settings.root)
    chain = trust.load_chain(keyring, settings.desk_id, root) if root is not None else None
    member = chain.accounts.get(user.id) if chain is not None else None
    if admin_name is None:
        if member is not None:
            raise click.ClickException(
                f"{user.name}'s keys are certified: pass --admin NAME (an admin, who is "
                "asked for their passphrase) so that the revocation is signed at once; "
                "nothing was changed")
        return None
    if admin_name == user.name:
        raise click.ClickException("an admin cannot sign their own revocation")
    admin, keys = _admin_key(db, keyring, admin_name, from_stdin)
    return trust.signer_of(admin, keys)


@click.group("keys")
def keys_group() -> None:
    """Desk epochs: status and rotation."""


@keys_group.command("status")
@with_appcontext
def keys_status() -> None:
    """Show epochs, how many records each holds, and whether a rotation is unfinished."""
    settings, keyring, db = _context()
    with db:
        states = rotation.status(db, keyring, settings.desk_id)
        trusted = trust.status(keyring, settings.desk_id, settings.root, db.query(User).all())
    for line in trust.status_lines(trusted):
        click.echo(line)
    for state in states:
        mark = "current" if state.current else ("retired" if state.epoch.retired else "old")
        click.echo(f"epoch {state.epoch.id:3}  {mark:8} created {state.epoch.created}  "
                   f"records {state.records:7}  grants {state.grants}")
    if rotation.unfinished(states):
        click.echo("A rotation is unfinished: run `intake keys rotate` again to complete it.")
    if trusted.problem or trusted.recovery_problem:
        raise SystemExit(2)


@keys_group.command("certify")
@click.option("--admin", "admin_name", required=True,
              help="A vetted admin: the root of trust names its keys and the recovery key's.")
@click.option("--passphrase-stdin", is_flag=True)
@with_appcontext
def keys_certify(admin_name: str, passphrase_stdin: bool) -> None:
    """Certify a keyring made before certificates: root, current epoch, this admin."""
    settings, keyring, db = _context()
    if keyring.certificates(settings.desk_id) or settings.root is not None:
        raise click.ClickException("this keyring is certified already; nothing was changed")
    with db:
        admin, keys, passphrase = _admin_unlock(db, keyring, admin_name, passphrase_stdin)
        if rotation.unfinished(rotation.status(db, keyring, settings.desk_id)):
            raise click.ClickException("a rotation is unfinished: complete it first "
                                       "(`intake keys rotate`); nothing was changed")
        secret = _recovery_secret(keyring, settings.desk_id)
        signing = keys.signing_key or SigningPrivateKey.generate()
        root = trust.start_chain(keyring, settings.desk_id, admin.id, keys.key.public_key,
                                 signing, recovery_signing_key(secret).public_key,
                                 recovery_key(secret).public_key,
                                 keyring.current_epoch(settings.desk_id),
                                 trust.high_water(settings.instance_path))
        upgraded = AccountKeys(keys.key, signing, root)
        wrapped = rewrap(upgraded, passphrase, settings.kdf_profile)
        # Key file first, verifier second: a crash between them is repaired at the next login.
        store_keys(keyring, admin.id, upgraded, wrapped.blob)
        admin.passphrase_verifier = wrapped.verifier
        audit.record(db, admin.id, "certify", settings.desk_id)
        db.commit()
    instance_config.update(settings.instance_path,
                           {"ROOT_FINGERPRINT": trust.fingerprint_text(root)})
    click.echo("The keyring is certified. ROOT FINGERPRINT (keep it with the recovery key; "
               "`intake restore --root` needs it):")
    click.echo(f"  {trust.fingerprint_text(root)}")
    click.echo("Every other account gets its signing key at its next login; vet each one "
               "again in /admin/ to certify it (until then it reads nothing).")


def _recovery_secret(keyring: Keyring, desk_id: str) -> bytes:
    """Ask for the printed recovery key and check that it is this desk's."""
    text = click.prompt("Recovery key", hide_input=True)
    try:
        secret = parse_recovery_secret(text)
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    if recovery_key(secret).public_key != keyring.recovery_key(desk_id):
        raise click.ClickException("this is not this desk's recovery key; nothing was changed")
    return secret


@keys_group.command("recipient")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from stdin.")
def keys_recipient(out: Path, passphrase_stdin: bool) -> None:
    """Make a key pair for a recipient of sealed bundles (OUT private, OUT.pub public).

    Run it on the recipient's own machine, offline if possible: it needs no instance.
    """
    from .accounts import passphrase_problem
    from .crypto import RFC_9106_LOW_MEMORY
    from .evidence.seal import read_public, recipient_files, recipient_fingerprint

    public_path = out.with_name(out.name + ".pub")
    if out.exists() or public_path.exists():
        raise click.ClickException(f"{out} or {public_path} already exists; nothing was written")
    passphrase = read_passphrase(passphrase_stdin, "Passphrase for the private key")
    problem = passphrase_problem(passphrase)
    if problem:
        raise click.ClickException(str(problem))
    secret, public = recipient_files(passphrase, RFC_9106_LOW_MEMORY)
    # The private half exists only wrapped; still, only its owner may read the file.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    public_path.write_bytes(public)
    click.echo(f"Wrote the private key (wrapped under your passphrase) to {out} and the public "
               f"key to {public_path}. Give the desk the public key, and read them its "
               f"fingerprint by another channel:\n  "
               f"{recipient_fingerprint(read_public(public))}")


@keys_group.command("rotate")
@click.option("--admin", "admin_name", required=True)
@click.option("--passphrase-stdin", is_flag=True)
@click.option("--batch", default=500, show_default=True, help="Records per transaction.")
@click.option("--pause-ms", default=0, show_default=True,
              help="Pause between batches, to leave a busy server room.")
@click.option("--settle-seconds", default=150, show_default=True,
              help="Wait after the switch before retiring old epochs, for requests in flight.")
@with_appcontext
def keys_rotate(admin_name: str, passphrase_stdin: bool, batch: int, pause_ms: int,
                settle_seconds: int) -> None:
    """Rotate to a new epoch, or resume an interrupted rotation."""
    settings, keyring, db = _context()
    with db:
        admin, keys = _admin_key(db, keyring, admin_name, passphrase_stdin)
    progress = _Bar()
    try:
        with db:
            retired, ended = rotation.run(db, keyring, settings.instance_path,
                                          settings.desk_id, admin, keys.key, progress,
                                          batch=batch, pause_ms=pause_ms,
                                          settle_seconds=settle_seconds,
                                          signer=trust.signer_of(admin, keys))
    except rotation.RotationError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    click.echo(f"Done. Retired epochs {retired or 'none'}; their grants are destroyed. "
               f"{ended} sessions ended: reviewers log in again to unlock the new epoch.")


class _Bar(rotation.Progress):
    """Report a rotation on the terminal, with a progress bar while re-sealing."""

    bar: Any = None

    def started(self, target: Any, resumed: bool) -> None:
        click.echo(f"{'Resuming' if resumed else 'Started'} rotation to epoch {target.id}; "
                   "new submissions are sealed to it.")

    def resealing(self, total: int) -> None:
        self.close()
        self.bar = click.progressbar(length=total, label="Re-sealing data keys")
        self.bar.__enter__()

    def resealed(self, count: int) -> None:
        self.bar.update(count)

    def waiting(self, seconds: int) -> None:
        self.close()
        click.echo(f"Waiting {seconds} s for requests that began before the switch...")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("recover")
@click.option("--admin", "admin_name", required=True, help="The admin to re-grant the desk to.")
@with_appcontext
def recover_command(admin_name: str) -> None:
    """Re-grant every epoch still in use to an admin, with the printed recovery key."""
    settings, keyring, db = _context()
    text = click.prompt("Recovery key", hide_input=True)
    try:
        secret = parse_recovery_secret(text)
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    with db:
        admin = _user(db, admin_name)
        if admin.role != "admin" or admin.state != "active":
            raise click.ClickException(f"{admin_name} is not an active admin")
        opened = _recovered_epochs(keyring, settings.desk_id, recovery_key(secret))
        root = trust.server_root(keyring, settings.desk_id, settings.root)
        if root is not None:
            _confirm_fingerprint(keyring, admin)
            # The recovery key is one of the root's issuers: it certifies the admin it
            # re-grants, so that admin's logins and signatures are accepted again.
            signer = trust.Signer("recovery", recovery_signing_key(secret), root)
            try:
                trust.certify_account(keyring, settings.desk_id, signer, admin,
                                      trust.high_water(settings.instance_path))
            except trust.TrustError as exc:
                raise click.ClickException(f"{exc}; nothing was changed") from None
        for epoch, epoch_key in opened:
            grant_epoch(keyring, epoch, epoch_key, keyring.user_key(admin.id)[0])
        ids = [epoch.id for epoch, _ in opened]
        audit.record(db, None, "recover", admin.id, f"epochs:{ids}")
        db.commit()
    click.echo(f"Epochs {ids} are granted to {admin_name} again. If older epochs still hold "
               "records, run `intake keys rotate` as that admin next.")


def _confirm_fingerprint(keyring: Keyring, admin: User) -> None:
    """Refuse unless the admin's keys in the keyring are the ones its owner saw at enrolment."""
    heard = click.prompt(f"First three groups of {admin.name}'s key fingerprint, as shown when "
                         "they enrolled (read out by them)")
    if not trust.confirms(trust.account_fingerprint(keyring, admin.id), heard):
        raise click.ClickException(
            f"that is not the start of the fingerprint of {admin.name}'s keys on this server: "
            "the keys may have been swapped; nothing was changed")


def _recovered_epochs(keyring: Keyring, desk_id: str,
                      recovery: PrivateKey) -> list[tuple[Epoch, PrivateKey]]:
    """Open every epoch not yet retired that is granted to the recovery key, or refuse."""
    # An interrupted rotation leaves records sealed to older epochs: resuming it needs them all.
    opened = []
    for epoch in keyring.epochs(desk_id):
        sealed = keyring.grant(desk_id, epoch.id, recovery.fingerprint)
        if epoch.retired or sealed is None:
            continue
        try:
            opened.append((epoch, open_epoch_key(sealed, recovery, desk_id=desk_id,
                                                 epoch_id=epoch.id,
                                                 epoch_public=epoch.public_key)))
        except DecryptionError:
            raise click.ClickException("this is not this desk's recovery key; nothing was "
                                       "changed") from None
    if not opened:
        raise click.ClickException("this is not this desk's recovery key; nothing was changed")
    return opened


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write one consistent backup (database, store, keyring, settings) to PATH."""
    from .backup import BackupError, write_backup

    settings, _, _ = _context()
    try:
        with rotation.exclusive(settings.instance_path, settings.desk_id):
            written = write_backup(settings.instance_path, settings.keys_dir, path.resolve(),
                                   settings.database_url)
    except (BackupError, rotation.RotationError) as exc:
        raise click.ClickException(f"{exc}; no backup was written") from None
    click.echo(f"Wrote {written.count} files to {path}. It holds ciphertext, wrapped keys and "
               "the instance's settings with its secret key and pepper: keep it as carefully "
               "as the server.")
    if written.left_out:
        click.echo(f"config.py also sets {', '.join(written.left_out)}, which a backup does "
                   "not carry: set them again after a restore.", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", "root_text", default=None,
              help="The root fingerprint printed at `intake init`; the backup's keyring must "
                   "chain to it. Without it, the backup's root is shown for you to confirm.")
@with_appcontext
def restore_command(path: Path, root_text: str | None) -> None:
    """Restore a backup into this (empty) instance folder and keyring."""
    from .backup import BackupError
    from .restore import restore_backup

    instance = Path(current_app.instance_path)
    keys = Path(current_app.config["KEYS_DIR"]).resolve()
    if root_text is not None:
        try:
            given: bytes | None = parse_fingerprint(root_text)
        except ValueError as exc:
            raise click.ClickException(f"--root: {exc}; nothing was restored") from None

    def check_root(found: bytes | None) -> bytes | None:
        if root_text is not None:
            return given
        if found is None:
            click.echo("WARNING: this backup's keyring is not certified; after restoring, run "
                       "`intake keys certify --admin NAME`.", err=True)
            return None
        click.echo(f"The backup's keyring has the root fingerprint\n  "
                   f"{trust.fingerprint_text(found)}")
        click.confirm("Is it the one printed when this instance was set up (kept with the "
                      "recovery key)?", abort=True)
        return found

    # Not carried by the backup: the host's own database, from INTAKE_DATABASE_URL.
    database_url = current_app.config.get("DATABASE_URL")
    try:
        count = restore_backup(path, instance, keys, check_root, database_url)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was restored") from None
    click.echo(f"Restored {count} files into {instance} and {keys}; config.py was written "
               "from the backup's settings. Run `intake audit verify` next.")
    if database_url:
        click.echo("config.py does not name the database: keep INTAKE_DATABASE_URL set "
                   "for the server.")


COMMANDS = (users_group, keys_group, recover_command, backup_command, restore_command)
