"""`intake keys`: the desk's key epochs — status, certifying the keyring, rotation."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from intake.cli.common import admin_key, admin_unlock, context, desk_option
from intake.crypto import (
    AccountKeys,
    Keyring,
    SigningPrivateKey,
    parse_recovery_secret,
    recovery_key,
    recovery_signing_key,
    rewrap,
)
from intake.desk import audit, desks, rotation, trust
from intake.staff.accounts import store_keys
from intake.store import instance_config


@click.group("keys")
def keys_group() -> None:
    """Desk epochs: status and rotation."""


@keys_group.command("status")
@with_appcontext
@desk_option
def keys_status() -> None:
    """Show epochs, how many records each holds, and whether a rotation is unfinished."""
    settings, keyring, db = context()
    with db:
        states = rotation.status(db, keyring, settings.desk_id)
        trusted = trust.status(keyring, settings.desk_id, settings.root,
                               desks.accounts_of(db, settings.desk_id, settings))
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
@desk_option
def keys_certify(admin_name: str, passphrase_stdin: bool) -> None:
    """Certify a keyring made before certificates: root, current epoch, this admin."""
    settings, keyring, db = context()
    if keyring.certificates(settings.desk_id) or settings.root is not None:
        raise click.ClickException("this keyring is certified already; nothing was changed")
    with db:
        admin, keys, passphrase = admin_unlock(db, keyring, admin_name, passphrase_stdin)
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


@keys_group.command("rotate")
@click.option("--admin", "admin_name", required=True)
@click.option("--passphrase-stdin", is_flag=True)
@click.option("--batch", default=500, show_default=True, help="Records per transaction.")
@click.option("--pause-ms", default=0, show_default=True,
              help="Pause between batches, to leave a busy server room.")
@click.option("--settle-seconds", default=150, show_default=True,
              help="Wait after the switch before retiring old epochs, for requests in flight.")
@with_appcontext
@desk_option
def keys_rotate(admin_name: str, passphrase_stdin: bool, batch: int, pause_ms: int,
                settle_seconds: int) -> None:
    """Rotate to a new epoch, or resume an interrupted rotation."""
    settings, keyring, db = context()
    with db:
        admin, keys = admin_key(db, keyring, admin_name, passphrase_stdin)
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
