"""Reviewer and admin accounts: key pairs, passphrases and TOTP."""

from __future__ import annotations

import datetime as dt
import hmac
import os
import re
import secrets

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import update
from sqlalchemy.orm import Session

from intake.crypto import (
    MAX_PASSPHRASE_LENGTH,
    AccountKeys,
    DecryptionError,
    Epoch,
    Keyring,
    PrivateKey,
    Profile,
    SigningPrivateKey,
    grant_epoch,
    needs_rewrap,
    rewrap,
    unlock_with_verifier,
)
from intake.crypto.chain import Chain
from intake.desk import trust
from intake.messages import Message
from intake.store.models import NO_DESK, ROLES, User

MIN_PASSPHRASE_LENGTH = 12
TOTP_DIGITS = 6
TOTP_PERIOD = 30
_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,63}")
# The instance host's role: administers the instance, belongs to no desk, holds no desk's keys.
OPERATOR = "operator"


_l = Message


class AccountError(ValueError):
    """A request about an account that cannot be carried out as asked."""


def passphrase_problem(passphrase: str) -> Message | None:
    """Say what is wrong with a new passphrase, or None if it is acceptable."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return _l("a passphrase needs at least %(count)s characters",
                  count=MIN_PASSPHRASE_LENGTH)
    if len(passphrase) > MAX_PASSPHRASE_LENGTH:
        return _l("a passphrase may have at most %(count)s characters",
                  count=MAX_PASSPHRASE_LENGTH)
    if len(set(passphrase)) < 6:
        return _l("a passphrase needs more different characters")
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


def check_name_and_role(name: str, role: str) -> None:
    """Refuse a user name or role that an account cannot have."""
    if not _NAME.fullmatch(name):
        raise AccountError(_l("a user name is 2-64 of a-z, 0-9, '.', '_' and '-', starting a-z"))
    if role not in ROLES:
        raise AccountError(_l("role must be one of %(roles)s", roles=", ".join(ROLES)))


def is_operator(user: User) -> bool:
    """Say whether an account is an instance operator (no desk, no keys of any desk)."""
    return user.role == OPERATOR


def refuse_operator(user: User) -> None:
    """Raise AccountError if `user` is an operator (or of no desk): no epoch of any desk is
    ever sealed to it."""
    if is_operator(user) or user.desk_id == NO_DESK:
        raise AccountError(_l("an operator holds no desk's keys: it is never granted access "
                              "to a desk"))


def create_user(session: Session, keyring: Keyring, *, name: str, role: str, passphrase: str,
                profile: Profile, today: dt.date, root: bytes | None = None,
                user_id: str | None = None, keys: AccountKeys | None = None
                ) -> tuple[User, AccountKeys]:
    """Make an account with fresh key pairs wrapped under its passphrase."""
    if session.query(User).filter_by(name=name).first() is not None:
        raise AccountError(_l("there is already a user called %(name)s", name=name))
    user, keys, wrapped = prepare_user(name=name, role=role, passphrase=passphrase,
                                       profile=profile, today=today, root=root, user_id=user_id,
                                       keys=keys)
    store_keys(keyring, user.id, keys, wrapped)
    session.add(user)
    return user, keys


def prepare_user(*, name: str, role: str, passphrase: str, profile: Profile, today: dt.date,
                 root: bytes | None, user_id: str | None = None,
                 keys: AccountKeys | None = None) -> tuple[User, AccountKeys, bytes]:
    """Make an account, its key pairs and the wrapped private keys, storing nothing yet.

    `root` is the fingerprint the account will trust, pinned inside its wrapped
    keys; None only on an instance whose keyring is not certified yet. `keys`
    are key pairs made beforehand (the first admin's, which the root names).
    """
    check_name_and_role(name, role)
    problem = passphrase_problem(passphrase)
    if problem:
        raise AccountError(problem)
    keys = keys or AccountKeys(PrivateKey.generate(), SigningPrivateKey.generate(), root)
    wrapped = rewrap(keys, passphrase, profile)
    user = User(id=user_id or secrets.token_hex(16), name=name, role=role, state="active",
                key_fingerprint=keys.key.fingerprint.hex(), passphrase_verifier=wrapped.verifier,
                totp_secret=os.urandom(20), totp_last_step=0, created_on=today)
    return user, keys, wrapped.blob


def store_keys(keyring: Keyring, user_id: str, keys: AccountKeys, wrapped: bytes) -> None:
    """Write an account's public keys and wrapped private keys to the keyring."""
    signing = keys.signing_key.public_key.raw if keys.signing_key and keys.root else None
    keyring.put_user_key(user_id, keys.key.public_key, wrapped, signing)


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


def spend_code(session: Session, user: User, step: int) -> bool:
    """Mark a code's time step used, unless it (or a later one) already is; say which."""
    # One conditional UPDATE, so that two requests carrying the same code at once cannot
    # both read the old step and both go on: exactly one of them changes the row.
    spent = session.execute(
        update(User).where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    session.commit()
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(user)
    return True


def authenticate(session: Session, keyring: Keyring, name: str, passphrase: str, code: str,
                 now: int) -> tuple[User, AccountKeys] | None:
    """Check TOTP first (cheap), then the passphrase; the same None for every failure."""
    user = session.query(User).filter_by(name=name).one_or_none()
    if user is None or user.state != "active":
        return None
    step = totp_step(user, code, now)
    if step is None or not spend_code(session, user, step):
        return None
    # Only a right, unspent code reaches Argon2: at most one passphrase check per code.
    try:
        keys, verifier = unlock_with_verifier(keyring.user_key(user.id)[1], passphrase)
    except DecryptionError:
        return None
    if not hmac.compare_digest(verifier, user.passphrase_verifier):
        # The passphrase opened the wrapped keys, so it is right; the stored verifier lags
        # only if a re-wrap stopped before storing it. Accept only the account's own key.
        if keys.key.fingerprint.hex() != user.key_fingerprint:
            return None
        user.passphrase_verifier = verifier
        session.commit()
    return user, keys


def is_vetted(keyring: Keyring, desk_id: str, user: User, root: bytes | None = None) -> bool:
    """Say whether an active account holds a grant of the current epoch and is certified.

    `root` is the server's configured root; on a certified keyring an account
    whose keys the chain does not certify (a grant planted in the keyring, a
    key swapped, an account made before certificates) is not vetted.
    """
    if is_operator(user) or user.desk_id == NO_DESK:
        return False  # an operator is never vetted for a desk, whatever the keyring holds
    # Read from the keyring on every check, never from a session: a grant destroyed by a
    # revocation or a rotation counts at once.
    epoch = keyring.current_epoch(desk_id)
    if user.state != "active" or keyring.grant(
            desk_id, epoch.id, bytes.fromhex(user.key_fingerprint)) is None:
        return False
    try:
        return trust.is_certified(keyring, desk_id, trust.server_root(keyring, desk_id, root),
                                  user)
    except trust.TrustError:
        return False


def grant(session: Session, keyring: Keyring, epoch: Epoch, epoch_key: PrivateKey,
          user: User, chain: Chain | None = None) -> bool:
    """Grant an epoch to an account, and take it back if the account is no longer active.

    With a certificate chain, only to the key the chain certifies for the account. An
    operator is refused (AccountError): it belongs to no desk.
    """
    refuse_operator(user)
    if user.must_replace_keys:
        return False  # an admin found this key pair may be known to someone else
    public = keyring.user_key(user.id)[0]
    if chain is not None:
        member = chain.accounts.get(user.id)
        if member is None or member.hpke != public.raw:
            return False
    grant_epoch(keyring, epoch, epoch_key, public)
    # `revoke` commits the state before it deletes grants. Reading the state after the grant
    # is written means a revocation racing this one is either seen here or deletes the grant.
    session.refresh(user)
    if user.state == "active" and not user.must_replace_keys:
        return True
    keyring.delete_grant(epoch.desk_id, epoch.id, public.fingerprint)
    return False


def revoke(session: Session, keyring: Keyring, user: User) -> tuple[int, int]:
    """Mark a user revoked, end their sessions, destroy their grants; return both counts."""
    from intake.staff.sessions import end_all

    user.state = "revoked"
    ended = end_all(session, user.id)  # commits the state, before any grant is touched
    fingerprint = bytes.fromhex(user.key_fingerprint)
    deleted = sum(keyring.delete_grant(desk_id, epoch.id, fingerprint)
                  for desk_id in keyring.desk_ids() for epoch in keyring.epochs(desk_id))
    return deleted, ended


def refresh_wrapping(keyring: Keyring, user: User, keys: AccountKeys, passphrase: str,
                     profile: Profile, root: bytes | None) -> tuple[AccountKeys, bytes | None]:
    """Wrap an account's keys again at login if they predate signing keys or `profile`.

    An account made before certificates gets a signing key and pins `root`
    (the server's root) the first time it logs in after the keyring is
    certified; an admin must then vet it so that its keys are certified.
    Returns the keys and the new verifier, which the caller stores with the
    account (None if nothing changed).
    """
    _, blob = keyring.user_key(user.id)
    upgrade = keys.signing_key is None and root is not None
    if not upgrade and not needs_rewrap(blob, profile):
        return keys, None
    if upgrade:
        keys = AccountKeys(keys.key, SigningPrivateKey.generate(), root)
    wrapped = rewrap(keys, passphrase, profile)
    store_keys(keyring, user.id, keys, wrapped.blob)
    return keys, wrapped.verifier
