"""Helpers the command groups share: passphrases, the app context, unlocking an admin."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import Session

from intake.crypto import (
    AccountKeys,
    DecryptionError,
    Keyring,
    unlock_account,
)
from intake.desk import trust
from intake.staff.accounts import is_vetted
from intake.store.db import make_engine
from intake.store.models import User
from intake.web.bound import bind_settings, get_settings, settings_of


def read_passphrase(from_stdin: bool, prompt: str, confirm: bool = True) -> str:
    """Read a secret from standard input or a hidden prompt, never from argv."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    passphrase: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return passphrase


def desk_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--desk` to a command that acts on one desk; the only desk when it is left out."""
    @click.option("--desk", "desk_id", default=None,
                  help="The desk to act on (`intake desks list`); needed with several desks.")
    @functools.wraps(command)
    def wrapped(*args: Any, desk_id: str | None, **kwargs: Any) -> Any:
        with acting_on(desk_id):
            return command(*args, **kwargs)
    return wrapped


@contextlib.contextmanager
def acting_on(desk_id: str | None) -> Iterator[None]:
    """Point this command's settings at one desk for the block (see choose_desk), then back."""
    from flask import current_app

    settings = get_settings()
    choose_desk(desk_id)
    try:
        yield
    finally:
        bind_settings(current_app, settings)


def choose_desk(desk_id: str | None) -> None:
    """Point this command's settings at one desk of the keyring, or refuse."""
    from flask import current_app

    settings = get_settings()
    known = Keyring(settings.keys_dir).desk_ids()
    if desk_id is None:
        if len(known) > 1:
            raise click.ClickException("this instance has several desks: name one with --desk "
                                       f"({', '.join(known)})")
        desk_id = known[0] if known else settings.desk_id
    elif desk_id not in known:
        raise click.ClickException(f"there is no desk {desk_id} (`intake desks list`)")
    bind_settings(current_app, settings.for_desk(desk_id))


def context() -> tuple[Any, Keyring, Session]:
    settings = get_settings()
    if settings is None:
        raise click.ClickException("the instance is not set up: run `intake init`")
    keyring = Keyring(settings.keys_dir)
    return settings, keyring, Session(make_engine(settings.database_url))


def user_named(db: Session, name: str) -> User:
    """Return the account called `name` of the desk this command acts on."""
    from intake.desk.desks import account_desk

    settings = get_settings()
    user = db.query(User).filter_by(name=name).one_or_none()
    # An admin of one desk never acts on another desk's accounts.
    if user is None or account_desk(user, settings) != settings.desk_id:
        raise click.ClickException(f"there is no user called {name} at desk {settings.desk_id}")
    return user


def admin_key(db: Session, keyring: Keyring, name: str, from_stdin: bool) -> tuple[User,
                                                                                   AccountKeys]:
    admin, keys, _ = admin_unlock(db, keyring, name, from_stdin)
    return admin, keys


def admin_unlock(db: Session, keyring: Keyring, name: str,
                  from_stdin: bool) -> tuple[User, AccountKeys, str]:
    """Unlock a vetted admin's keys from its passphrase, checking the chain as a login does."""
    admin = user_named(db, name)
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


def fresh_app() -> Flask:
    from intake.web import create_app

    return create_app()


def settings_or_exit(app: Flask) -> Any:
    settings = settings_of(app)
    if settings is None:
        raise click.ClickException("the instance configuration is not usable (see above)")
    return settings
