"""`intake users`: list, invite and revoke reviewer and admin accounts."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from intake.cli.common import acting_on, admin_key, context, desk_option, user_named
from intake.crypto import (
    Keyring,
)
from intake.desk import audit, desks, rotation, trust
from intake.staff.accounts import OPERATOR, revoke
from intake.store.models import NO_DESK, User


@click.group("users")
def users_group() -> None:
    """Reviewer and admin accounts."""


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts, their role and state."""
    settings, _, db = context()
    with db:
        for user in db.query(User).order_by(User.name):
            desk = "(no desk)" if user.role == OPERATOR else desks.account_desk(user, settings)
            click.echo(f"{user.name:24} {user.role:9} {user.state:8} {desk}")


@users_group.command("invite")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), required=True)
@click.option("--base-url", default=None, help="Address of this service (default BASE_URL).")
@with_appcontext
@desk_option
def users_invite(name: str, role: str, base_url: str | None) -> None:
    """Make a one-time, expiring enrolment link for a new account."""
    _enrolment_link(name, role, base_url)


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["operator", "reviewer", "admin"]), required=True,
              help="operator: the instance's host, who belongs to no desk and holds no keys.")
@click.option("--desk", "desk_id", default=None,
              help="The desk of a reviewer or admin (`intake desks list`); never an operator's.")
@click.option("--base-url", default=None, help="Address of this service (default BASE_URL).")
@with_appcontext
def users_add(name: str, role: str, desk_id: str | None, base_url: str | None) -> None:
    """Make a one-time, expiring enrolment link for a new account, an operator's included."""
    if role != OPERATOR:
        with acting_on(desk_id):
            _enrolment_link(name, role, base_url)
        return
    if desk_id is not None:
        raise click.ClickException("an operator belongs to no desk: leave out --desk; "
                                   "nothing was changed")
    _enrolment_link(name, role, base_url)


def _enrolment_link(name: str, role: str, base_url: str | None) -> None:
    """Store an enrolment link (to the chosen desk, or to none for an operator), audited."""
    from intake.staff import invites
    from intake.staff.accounts import AccountError

    settings, _, db = context()
    base = (base_url or current_app.config.get("BASE_URL") or "http://127.0.0.1:8000")
    desk = NO_DESK if role == OPERATOR else desks.stored_desk(settings.desk_id, settings)
    with db:
        try:
            token = invites.create(db, name, role, int(time.time()), desk_id=desk)
        except AccountError as exc:
            raise click.ClickException(f"{exc}; nothing was changed") from None
        audit.record(db, None, "invite", detail=role)
        db.commit()
    where = "no desk" if role == OPERATOR else f"desk {settings.desk_id}"
    click.echo(f"One-time link for {name} ({role}, {where}), valid for three days:\n"
               f"  {base.rstrip('/')}/enrol/{token}")
    if role == OPERATOR:
        click.echo("After enrolling they log in at /review/login and see the instance page "
                   "only; no desk can grant them access to its work.")
    else:
        click.echo("They will see nothing until an admin grants them access in /admin/.")


@users_group.command("revoke")
@click.argument("name")
@click.option("--admin", "admin_name", default=None,
              help="A certified admin who signs the revocation (asked for their passphrase). "
                   "Needed to revoke a certified account.")
@click.option("--passphrase-stdin", is_flag=True)
@click.option("--desk", "desk_id", default=None,
              help="The account's desk (`intake desks list`); needed with several desks, "
                   "never for an operator.")
@with_appcontext
def users_revoke(name: str, admin_name: str | None, passphrase_stdin: bool,
                 desk_id: str | None) -> None:
    """Revoke an account: delete its grants and live sessions at once."""
    if _revoke_operator(name, desk_id):
        return
    with acting_on(desk_id):
        _revoke_desk_account(name, admin_name, passphrase_stdin)


def _revoke_operator(name: str, desk_id: str | None) -> bool:
    """Revoke `name` if it is an operator (its sessions end; it holds no grant to destroy and
    no desk's chain names it, so nothing is signed); say whether it was one."""
    _, keyring, db = context()
    with db:
        user = db.query(User).filter_by(name=name, role=OPERATOR).one_or_none()
        if user is None:
            return False
        if desk_id is not None:
            raise click.ClickException(f"{name} is an operator, of no desk: leave out --desk; "
                                       "nothing was changed")
        deleted, ended = revoke(db, keyring, user)
        audit.record(db, None, "revoke", user.id, f"grants:{deleted} sessions:{ended}")
        db.commit()
    click.echo(f"{name} (operator) is revoked: {ended} sessions ended. An operator holds no "
               "desk's keys, so no rotation is needed.")
    return True


def _revoke_desk_account(name: str, admin_name: str | None, passphrase_stdin: bool) -> None:
    """Revoke an account of the chosen desk, signed by one of its admins when certified."""
    settings, keyring, db = context()
    with db:
        user = user_named(db, name)
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
    admin, keys = admin_key(db, keyring, admin_name, from_stdin)
    return trust.signer_of(admin, keys)
