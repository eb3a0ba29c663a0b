"""Creating an instance: its config, schema, desk, first admin and recovery key."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import instance_config
from .accounts import create_user, totp_uri
from .crypto import Keyring, PrivateKey, create_desk, grant_epoch
from .db import make_engine, upgrade
from .settings import Settings


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


def write_config(instance_path: Path, overrides: dict[str, Any]) -> Path:
    """Write the instance's config.py with fresh secrets, readable by its owner only."""
    return instance_config.write(instance_path, {"SECRET_KEY": secrets.token_hex(32),
                                                 "PEPPER": secrets.token_hex(32), **overrides})


def initialise(settings: Settings, users: list[tuple[str, str, str]],
               today: dt.date | None = None) -> Initialised:
    """Migrate the database, create the desk, and make the first users, granted its epoch.

    `users` lists (name, role, passphrase); `intake init` passes its one admin.
    """
    today = today or dt.date.today()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    keyring = Keyring(settings.keys_dir)
    if settings.desk_id in keyring.desk_ids():
        raise FileExistsError(f"the keyring at {settings.keys_dir} already holds a desk")
    desk = create_desk(keyring, settings.desk_id, settings.organisation_name, today)
    with Session(engine) as session:
        accounts = [add_granted_user(session, keyring, settings, desk.epoch_key, name=name,
                                     role=role, passphrase=passphrase, today=today)
                    for name, role, passphrase in users]
        session.commit()
    engine.dispose()
    return Initialised(accounts, desk.recovery_text)


def add_granted_user(session: Session, keyring: Keyring, settings: Settings,
                     epoch_key: PrivateKey, *, name: str, role: str, passphrase: str,
                     today: dt.date) -> Account:
    """Make an account and grant it the desk's current epoch (so it is vetted at once)."""
    user, key = create_user(session, keyring, name=name, role=role, passphrase=passphrase,
                            profile=settings.kdf_profile, today=today)
    grant_epoch(keyring, keyring.current_epoch(settings.desk_id), epoch_key, key.public_key)
    return Account(user.name, user.role, totp_uri(user, settings.organisation_name))

