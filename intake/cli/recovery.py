"""`intake recover`: re-grant the desk to an admin with the offline recovery key."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from intake.cli.common import context, desk_option, user_named
from intake.crypto import (
    DecryptionError,
    Epoch,
    Keyring,
    PrivateKey,
    grant_epoch,
    open_epoch_key,
    parse_recovery_secret,
    recovery_key,
    recovery_signing_key,
)
from intake.desk import audit, trust
from intake.store.models import User


@click.command("recover")
@click.option("--admin", "admin_name", required=True, help="The admin to re-grant the desk to.")
@with_appcontext
@desk_option
def recover_command(admin_name: str) -> None:
    """Re-grant every epoch still in use to an admin, with the printed recovery key."""
    settings, keyring, db = context()
    text = click.prompt("Recovery key", hide_input=True)
    try:
        secret = parse_recovery_secret(text)
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    with db:
        admin = user_named(db, admin_name)
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
