"""Creating an instance: its config, schema, desk, first admin and recovery key."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from intake.crypto import (
    AccountKeys,
    Keyring,
    PrivateKey,
    SigningPrivateKey,
    create_desk,
    grant_epoch,
)
from intake.desk import desks, trust
from intake.messages import Message as _l
from intake.staff.accounts import OPERATOR, AccountError, create_user, totp_uri
from intake.store import instance_config
from intake.store.db import make_engine, upgrade
from intake.store.settings import Settings


@dataclass(frozen=True)
class Account:
    """A user made during set-up, with what must be shown to them once."""

    name: str
    role: str
    totp_uri: str


@dataclass(frozen=True)
class Initialised:
    """What `initialise` hands back to be printed once and never stored."""

    accounts: list[Account]
    recovery_text: str
    root_text: str


def write_config(instance_path: Path, overrides: dict[str, Any]) -> Path:
    """Write the instance's config.py with fresh secrets, readable by its owner only."""
    return instance_config.write(instance_path, {"SECRET_KEY": secrets.token_hex(32),
                                                 "PEPPER": secrets.token_hex(32), **overrides})


def initialise(settings: Settings, users: list[tuple[str, str, str]],
               today: dt.date | None = None) -> Initialised:
    """Migrate the database, create the desk and its root of trust, and make the first users.

    `users` lists (name, role, passphrase); `intake init` passes its one admin.
    The first user is an admin: the root names its keys and the recovery key's,
    and it certifies the first epoch and every other user made here.
    """
    today = today or dt.date.today()
    if users and users[0][1] != "admin":
        raise ValueError("the first user of a new desk is its admin")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    keyring = Keyring(settings.keys_dir)
    if settings.desk_id in keyring.desk_ids():
        raise FileExistsError(f"the keyring at {settings.keys_dir} already holds a desk")
    desk = create_desk(keyring, settings.desk_id, settings.organisation_name, today)
    if not users:  # a bare desk (tests of set-up faults): nothing to certify it with
        engine.dispose()
        return Initialised([], desk.recovery_text, "")
    admin_id = secrets.token_hex(16)
    first_key, first_signing = PrivateKey.generate(), SigningPrivateKey.generate()
    water = trust.high_water(settings.instance_path)
    root = trust.start_chain(keyring, settings.desk_id, admin_id, first_key.public_key,
                             first_signing, desk.recovery_signing,
                             keyring.recovery_key(settings.desk_id), desk.epoch, water)
    signer = trust.Signer(admin_id, first_signing, root)
    with Session(engine) as session:
        accounts = []
        for position, (name, role, passphrase) in enumerate(users):
            keys = AccountKeys(first_key, first_signing, root) if position == 0 else None
            accounts.append(add_granted_user(
                session, keyring, settings, desk.epoch_key, name=name, role=role,
                passphrase=passphrase, today=today, root=root, signer=signer, keys=keys,
                user_id=admin_id if position == 0 else None))
        session.commit()
    engine.dispose()
    return Initialised(accounts, desk.recovery_text, trust.fingerprint_text(root))


def add_granted_user(session: Session, keyring: Keyring, settings: Settings,
                     epoch_key: PrivateKey, *, name: str, role: str, passphrase: str,
                     today: dt.date, root: bytes | None = None, signer: trust.Signer | None = None,
                     keys: AccountKeys | None = None, user_id: str | None = None) -> Account:
    """Make an account, certify it, and grant it the desk's current epoch (vetted at once)."""
    if role == OPERATOR:
        raise AccountError(_l("an operator holds no desk's keys: it is never granted access "
                              "to a desk"))
    user, made = create_user(session, keyring, name=name, role=role, passphrase=passphrase,
                             profile=settings.kdf_profile, today=today, root=root,
                             user_id=user_id, keys=keys)
    user.desk_id = desks.stored_desk(settings.desk_id, settings)
    if signer is not None and user.id != signer.account:
        trust.certify_account(keyring, settings.desk_id, signer, user,
                              trust.high_water(settings.instance_path))
    grant_epoch(keyring, keyring.current_epoch(settings.desk_id), epoch_key, made.key.public_key)
    return Account(user.name, user.role, totp_uri(user, settings.organisation_name))


def add_desk(settings: Settings, desk_id: str, names: dict[str, str],
             descriptions: dict[str, str], users: list[tuple[str, str, str]],
             today: dt.date | None = None) -> Initialised:
    """Make another desk of the instance: its keys, root, first epoch and first users.

    `users` lists (name, role, passphrase), the desk's first admin first.

    The desk's row is checked before anything is written and committed after its
    keyring is complete, so families are never offered a desk that cannot seal.
    """
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        # Nothing of this session is flushed until the keyring and accounts are made.
        with Session(engine, autoflush=False) as session:
            if session.get(desks.DeskRecord, desk_id) is None \
                    and desk_id in Keyring(settings.keys_dir).desk_ids():
                raise desks.DeskError(f"the keyring already holds a desk {desk_id}")
            desks.record_first_desk(session, settings)
            desks.record_desk(session, desk_id, names, descriptions)
            if not users:
                raise desks.DeskError("a new desk needs its first admin")
            result = initialise(settings.for_desk(desk_id), users, today)
            session.commit()
    finally:
        engine.dispose()
    return result
