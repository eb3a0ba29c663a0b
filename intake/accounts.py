"""Reviewer and admin accounts: key pairs, passphrases and TOTP."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy.orm import Session

from .crypto import (
    MAX_PASSPHRASE_LENGTH,
    DecryptionError,
    Keyring,
    PrivateKey,
    Profile,
    unlock,
    wrap_private_key,
)
from .models import ROLES, User

MIN_PASSPHRASE_LENGTH = 12
TOTP_DIGITS = 6
TOTP_PERIOD = 30
_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,63}")


class AccountError(ValueError):
    """A request about an account that cannot be carried out as asked."""


def passphrase_problem(passphrase: str) -> str | None:
    """Say what is wrong with a new passphrase, or None if it is acceptable."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return f"a passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters"
    if len(passphrase) > MAX_PASSPHRASE_LENGTH:
        return f"a passphrase may have at most {MAX_PASSPHRASE_LENGTH} characters"
    if len(set(passphrase)) < 6:
        return "a passphrase needs more different characters"
    return None


def totp_for(user: User) -> TOTP:
    """Return the TOTP generator for a user's second factor."""
    # SHA-1 is what authenticator apps implement for TOTP (RFC 6238); HMAC-SHA-1
    # has no known weakness that matters here.
    return TOTP(user.totp_secret, TOTP_DIGITS, SHA1(), TOTP_PERIOD,  # noqa: S303
                enforce_key_length=True)


def totp_uri(user: User, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app enrols from."""
    return totp_for(user).get_provisioning_uri(user.name, issuer)


def create_user(session: Session, keyring: Keyring, *, name: str, role: str, passphrase: str,
                profile: Profile, today: dt.date) -> tuple[User, PrivateKey]:
    """Make an account with a fresh key pair wrapped under its passphrase."""
    if not _NAME.fullmatch(name):
        raise AccountError("a user name is 2-64 of a-z, 0-9, '.', '_' and '-', starting a-z")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    problem = passphrase_problem(passphrase)
    if problem:
        raise AccountError(problem)
    if session.query(User).filter_by(name=name).first() is not None:
        raise AccountError(f"there is already a user called {name}")
    key = PrivateKey.generate()
    wrapped = wrap_private_key(key, passphrase, profile)
    user = User(id=secrets.token_hex(16), name=name, role=role, state="active",
                key_fingerprint=key.fingerprint.hex(), passphrase_verifier=wrapped.verifier,
                totp_secret=os.urandom(20), totp_last_step=0, created_on=today)
    keyring.put_user_key(user.id, key.public_key, wrapped.blob)
    session.add(user)
    return user, key


def totp_step(user: User, code: str, now: int) -> int | None:
    """Return the time step a TOTP code is valid for (one step of drift allowed), if unused."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != TOTP_DIGITS:
        return None
    generator = totp_for(user)
    for drift in (0, -1, 1):
        moment = now + drift * TOTP_PERIOD
        try:
            generator.verify(digits.encode(), moment)
        except InvalidToken:
            continue
        step = moment // TOTP_PERIOD
        return step if step > user.totp_last_step else None
    return None


def authenticate(session: Session, keyring: Keyring, name: str, passphrase: str, code: str,
                 now: int) -> tuple[User, PrivateKey] | None:
    """Check TOTP first (cheap), then the passphrase; the same None for every failure."""
    user = session.query(User).filter_by(name=name).one_or_none()
    if user is None or user.state != "active":
        return None
    step = totp_step(user, code, now)
    if step is None:
        return None
    # The code is spent whether or not the passphrase is right: no replays.
    user.totp_last_step = step
    session.commit()
    try:
        return user, unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, passphrase)
    except DecryptionError:
        return None


def revoke(session: Session, keyring: Keyring, user: User) -> tuple[int, int]:
    """Destroy a user's grants in every epoch and end their sessions; return both counts."""
    from .sessions import end_all

    fingerprint = bytes.fromhex(user.key_fingerprint)
    deleted = sum(keyring.delete_grant(desk_id, epoch.id, fingerprint)
                  for desk_id in keyring.desk_ids() for epoch in keyring.epochs(desk_id))
    user.state = "revoked"
    return deleted, end_all(session, user.id)
