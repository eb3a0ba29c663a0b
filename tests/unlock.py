"""Unlocking an account's keys in a test, as a login or `intake keys rotate` does."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.crypto import AccountKeys, Keyring, unlock_account
from intake.desk.trust import Signer, signer_of
from intake.store.models import User


def unlock_user(db: Session, keyring: Keyring, name: str,
                passphrase: str) -> tuple[User, AccountKeys, Signer | None]:
    """Return an account, its unlocked keys and what it signs certificates with."""
    user = db.query(User).filter_by(name=name).one()
    keys = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier, passphrase)
    return user, keys, signer_of(user, keys)


def read_aloud(app, user_id: str) -> str:  # type: ignore[no-untyped-def]
    """The first three groups of an account's fingerprint, as its owner reads them out."""
    from intake.desk.trust import account_fingerprint

    fingerprint = account_fingerprint(app.extensions["intake.desk"].keyring, user_id)
    return "-".join((fingerprint or "").split("-")[:3])
