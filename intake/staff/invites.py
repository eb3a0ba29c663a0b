"""One-time links: enrolling a new account, and re-enrolling a second factor after a reset."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets

from sqlalchemy import ColumnElement, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.crypto import AccountKeys, DecryptionError, Keyring, Profile, unlock
from intake.desk import audit
from intake.messages import Message as _l
from intake.staff.accounts import (
    OPERATOR,
    AccountError,
    check_name_and_role,
    passphrase_problem,
    prepare_user,
    store_keys,
    totp_for,
    totp_step,
)
from intake.store.models import NO_DESK, Invite, User

INVITE_SECONDS = 3 * 24 * 3600


class LinkUsed(AccountError):
    """Another request redeemed this link first."""


def _hash(token: str) -> str:
    return hashlib.sha256(b"intake/invite" + token.encode()).hexdigest()


def create(db: Session, name: str, role: str, now: int, user: User | None = None,
           desk_id: str | None = None) -> str:
    """Store an invite to desk `desk_id` (None: the first desk), or a reset link for `user`,
    and return its secret token."""
    if user is None:
        check_name_and_role(name, role)
        # An operator belongs to no desk, and every other account to exactly one.
        if (role == OPERATOR) != (desk_id == NO_DESK):
            raise AccountError(_l("an operator belongs to no desk, and every other account to "
                                  "one"))
    if user is None and db.query(User).filter_by(name=name).first() is not None:
        raise AccountError(_l("there is already a user called %(name)s", name=name))
    if user is not None:
        # A new reset link replaces any earlier one: only the newest can be redeemed.
        db.execute(delete(Invite).where(Invite.user_id == user.id,
                                        Invite.purpose == "totp_reset"))
    token = secrets.token_urlsafe(32)
    db.add(Invite(token_hash=_hash(token), purpose="totp_reset" if user else "enrol",
                  name=name, role=role, totp_secret=os.urandom(20),
                  expires_at=now + INVITE_SECONDS, user_id=user.id if user else None,
                  desk_id=user.desk_id if user else desk_id))
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
          profile: Profile, now: int, root: bytes | None = None) -> User:
    """Create the account: key pairs wrapped under its passphrase, TOTP confirmed, no grants.

    The account pins `root`, the server's root of trust: its logins check the
    keyring against it from then on. It is certified when an admin vets it.
    """
    problem = passphrase_problem(passphrase)
    if problem:
        raise AccountError(problem)
    step = totp_step(_invite_user(invite), code, now)
    if step is None:
        raise AccountError(_l("that authenticator code is not right"))
    # Argon2 runs before anything is locked or written. An operator pins no desk's root: it
    # holds no desk's keys and checks no desk's chain.
    user, keys, wrapped = prepare_user(name=invite.name, role=invite.role,
                                       passphrase=passphrase, profile=profile,
                                       today=dt.date.today(),
                                       root=None if invite.role == OPERATOR else root)
    user.totp_secret, user.totp_last_step = invite.totp_secret, step
    user.desk_id = invite.desk_id
    _claim(db, invite)
    if db.query(User).filter_by(name=invite.name).first() is not None:
        db.rollback()  # gives the link back: it was not used
        raise AccountError(_l("there is already a user called %(name)s", name=invite.name))
    _store(db, keyring, user, keys, wrapped)
    return user


def reset_totp(db: Session, keyring: Keyring, invite: Invite, passphrase: str, code: str,
               now: int) -> User:
    """Move an existing account to the new second factor, after its passphrase is proven."""
    user = db.get(User, invite.user_id)
    if user is None or user.state != "active":
        raise AccountError(_l("this account cannot be used"))
    step = totp_step(_invite_user(invite), code, now)  # cheap: before Argon2
    if step is None:
        raise AccountError(_l("that authenticator code is not right"))
    try:
        unlock(keyring.user_key(user.id)[1], user.passphrase_verifier, passphrase)
    except DecryptionError:
        # The link is spent on success only: a wrong passphrase leaves it as it was.
        raise AccountError(_l("that passphrase is not right")) from None
    _claim(db, invite)
    user.totp_secret, user.totp_last_step = invite.totp_secret, step
    audit.record(db, user.id, "totp_reset", user.id)
    db.commit()
    return user


def _claim(db: Session, invite: Invite) -> None:
    """Delete the link in this transaction, or raise LinkUsed if another request already has."""
    # The DELETE takes SQLite's write lock (PostgreSQL's row lock) before it reads, so two
    # redemptions at once queue here and exactly one of them deletes the row.
    deleted = db.execute(delete(Invite).where(Invite.token_hash == invite.token_hash))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise LinkUsed(_l("This link has just been used. If that was not you, tell the admin "
                          "who sent it."))


def _store(db: Session, keyring: Keyring, user: User, keys: AccountKeys,
           wrapped: bytes) -> None:
    """Write the account's key file, then the account; remove the file if that fails."""
    user_id, name = user.id, user.name
    store_keys(keyring, user_id, keys, wrapped)
    try:
        db.add(user)
        audit.record(db, user_id, "enrol", user_id)
        db.commit()
    except IntegrityError:
        # Another link for the same name won the race: its account stands, this one goes.
        db.rollback()
        keyring.delete_user_key(user_id)
        raise AccountError(_l("there is already a user called %(name)s", name=name)) from None
    except BaseException:
        db.rollback()
        keyring.delete_user_key(user_id)
        raise


def _of_desk(stored_desk: str | None) -> ColumnElement[bool]:
    """Select the links of one desk, as `users.desk_id` names it (None: the first desk)."""
    column = Invite.desk_id
    return column.is_(None) if stored_desk is None else column == stored_desk


def pending(db: Session, now: int, stored_desk: str | None) -> list[Invite]:
    """Return one desk's links not yet redeemed nor expired, soonest to expire first."""
    return (db.query(Invite).filter(Invite.expires_at >= now, _of_desk(stored_desk))
            .order_by(Invite.expires_at, Invite.name).all())


def cancel(db: Session, token_hash: str, actor_id: str,
           stored_desk: str | None) -> Invite | None:
    """Delete one desk's link so it can never be redeemed, and audit it; None if it is already
    gone or another desk's (which an admin of this desk cannot tell apart)."""
    invite = db.query(Invite).filter(Invite.token_hash == token_hash,
                                     _of_desk(stored_desk)).one_or_none()
    if invite is None:
        return None
    # The same DELETE a redemption makes: whichever comes first wins, the other finds nothing.
    deleted = db.execute(delete(Invite).where(Invite.token_hash == token_hash))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        return None
    audit.record(db, actor_id, "invite_cancel", invite.user_id, invite.purpose)
    db.commit()
    return invite


def secret_groups(invite: Invite) -> list[str]:
    """Return the link's authenticator secret in base32, in groups of four, as apps take it."""
    text = base64.b32encode(invite.totp_secret).decode().rstrip("=")
    return [text[i:i + 4] for i in range(0, len(text), 4)]
