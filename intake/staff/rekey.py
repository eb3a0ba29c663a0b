"""Replacing an account's key pair, after a phishing or a lost device.

A passphrase change re-wraps the same key pair, and every rotation grants the
new epoch to the same public key: whoever copied the wrapped key and learnt
the passphrase keeps reading. Replacing the keys makes a new key pair wrapped
under a new passphrase, destroys the old one and every grant made to it, and
leaves the account unvetted until an admin who has checked the new key's
fingerprint with its owner grants it access again.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from intake.crypto import (
    AccountKeys,
    Keyring,
    PrivateKey,
    Profile,
    SigningPrivateKey,
    rewrap,
    unlock_account,
)
from intake.desk import audit, rotation
from intake.messages import Message as _l
from intake.staff.accounts import AccountError, passphrase_problem, store_keys
from intake.staff.sessions import end_all
from intake.store.models import ReviewSession, User


def destroy_grants(keyring: Keyring, fingerprint: bytes) -> int:
    """Destroy every grant, of every desk and epoch, made to one key; return how many."""
    return sum(keyring.delete_grant(desk_id, epoch.id, fingerprint)
               for desk_id in keyring.desk_ids() for epoch in keyring.epochs(desk_id))


def replace_keys(db: Session, keyring: Keyring, instance_path: Path, desk_id: str, user: User,
                 current: str, new: str, profile: Profile) -> PrivateKey:
    """Give `user` a new key pair under a new passphrase; the old pair and its grants go.

    Raises DecryptionError for a wrong current passphrase, AccountError for an
    unacceptable new one, RotationError while a rotation or backup runs.
    """
    problem = passphrase_problem(new)
    if problem:
        raise AccountError(problem)
    if new == current:
        raise AccountError(_l(
            "choose a passphrase you have not used before: the old one may be known"))
    old_public, old_wrapped = keyring.user_key(user.id)
    old = unlock_account(old_wrapped, user.passphrase_verifier, current)
    # A rotation grants to the public key in the keyring: it must not run while the key changes.
    with rotation.exclusive(instance_path, desk_id):
        # Both key pairs are new; the pinned root stays. The new keys are not certified
        # until an admin vets the account again.
        keys = AccountKeys(PrivateKey.generate(), SigningPrivateKey.generate(), old.root)
        key = keys.key
        wrapped = rewrap(keys, new, profile)
        # Grants go first: a crash after this leaves an account that reads nothing, never one
        # whose new key inherited the old key's access.
        destroyed = destroy_grants(keyring, old_public.fingerprint)
        store_keys(keyring, user.id, keys, wrapped.blob)
        try:
            user.key_fingerprint = key.fingerprint.hex()
            user.passphrase_verifier = wrapped.verifier
            user.must_replace_keys = False
            # Every session holds epoch keys the old key opened: all of them end, this one too.
            db.query(ReviewSession).filter_by(user_id=user.id).delete()
            audit.record(db, user.id, "replace_keys", user.id, f"grants:{destroyed}")
            db.commit()
        except BaseException:
            db.rollback()
            store_keys(keyring, user.id, old, old_wrapped)
            raise
    return key


def require_new_keys(db: Session, keyring: Keyring, admin: User, user: User) -> int:
    """Take an account's access away until its owner replaces its keys; return grants destroyed.

    The account stays active so that its owner can log in and replace them;
    until then no grant can be made to its key.
    """
    if user.id == admin.id:
        raise AccountError(_l("replace your own keys from your account page"))
    user.must_replace_keys = True
    end_all(db, user.id)  # commits the flag before any grant is touched, as revocation does
    destroyed = destroy_grants(keyring, bytes.fromhex(user.key_fingerprint))
    audit.record(db, admin.id, "require_new_keys", user.id, f"grants:{destroyed}")
    db.commit()
    return destroyed
