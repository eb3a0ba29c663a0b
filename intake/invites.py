"""One-time links: enrolling a new account, and re-enrolling a second factor after a reset."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets

from sqlalchemy.orm import Session

from .accounts import (
    AccountError,
    check_name_and_role,
    create_user,
    passphrase_problem,
    totp_for,
    totp_step,
)
from .accounts import translatable as _l
from .crypto import DecryptionError, Keyring, Profile, unlock
from .models import Invite, User

INVITE_SECONDS = 3 * 24 * 3600


def _hash(token: str) -> str:
    return hashlib.sha256(b"intake/invite" + token.encode()).hexdigest()


def create(db: Session, name: str, role: str, now: int, user: User | None = None) -> str:
    """Store an invite (or a reset link for `user`) and return its secret token."""
    if user is None:
        check_name_and_role(name, role)
    if user is None and db.query(User).filter_by(name=name).first() is not None:
        raise AccountError(_l("there is already a user called %(name)s", name=name))
    token = secrets.token_urlsafe(32)
    db.add(Invite(token_hash=_hash(token), purpose="totp_reset" if user else "enrol",
                  name=name, role=role, totp_secret=os.urandom(20),
                  expires_at=now + INVITE_SECONDS, user_id=user.id if user else None))
    return token


def find(db: Session, token: str, now: int) -> Invite | None:
    """Return a live invite; used, unknown and expired links all give None."""
    invite = db.get(Invite, _hash(token))
    if invite is None or invite.expires_at < now:
        return None
    return invite


def _invite_user(invite: Invite) -> User:
    """A stand-in account carrying the invite's TOTP secret, for checking codes."""
    return User(name=invite.name, totp_secret=invite.totp_secret, totp_last_step=0)


def totp_uri(invite: Invite, issuer: str) -> str:
    """The otpauth:// URI the invitee's authenticator app enrols from."""
    return totp_for(_invite_user(invite)).get_provisioning_uri(invite.name, issuer)


def enrol(db: Session, keyring: Keyring, invite: Invite, passphrase: str, code: str,
          profile: Profile, now: int) -> User:
    """Create the account: key pair wrapped under its passphrase, TOTP confirmed, no grants."""
    problem = passphrase_problem(passphrase)
    if problem:
        raise AccountError(problem)
    step = totp_step(_invite_user(invite), code, now)
    if step is None:
        raise AccountError(_l("that authenticator code is not right"))
    user, _key = create_user(db, keyring, name=invite.name, role=invite.role,
                             passphrase=passphrase, profile=profile, today=dt.date.today())
    user.totp_secret, user.totp_last_step = invite.totp_secret, step
    db.delete(invite)
    return user


def reset_totp(db: Session, keyring: Keyring, invite: Invite, passphrase: str, code: str,
               now: int) -> User:
    """Move an existing account to the new second factor, after its passphrase is proven."""
    user = db.get(User, invite.user_id)
    if user is None or user.state != "active":
        raise AccountError(_l("this account cannot be used"))
    try:
        unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, passphrase)
    except DecryptionError:
        raise AccountError(_l("that passphrase is not right")) from None
    step = totp_step(_invite_user(invite), code, now)
    if step is None:
        raise AccountError(_l("that authenticator code is not right"))
    user.totp_secret, user.totp_last_step = invite.totp_secret, step
    db.delete(invite)
    return user
