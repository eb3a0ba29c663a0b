"""Reviewer sessions: unlocked epoch keys kept server-side, encrypted under a key the cookie holds.

The database row alone does not decrypt anything: its key exists only in the
reviewer's browser cookie. Logout, expiry and revocation delete the row, and
with it every way back to the keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from .crypto import PrivateKey
from .models import ReviewSession, User

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
EpochKeys = dict[tuple[str, int], PrivateKey]


@dataclass
class Unlocked:
    """A live session: who it belongs to and the epoch keys it unlocked."""

    record: ReviewSession
    user: User
    epoch_keys: EpochKeys


def _id_hash(session_id: bytes) -> str:
    return hashlib.sha256(b"intake/review-session" + session_id).hexdigest()


def start(db: Session, user: User, epoch_keys: EpochKeys, now: int) -> str:
    """Store a new session and return the cookie value (session id and key)."""
    session_id, key, nonce = secrets.token_bytes(32), os.urandom(32), os.urandom(12)
    payload = json.dumps({f"{desk}/{epoch}": k.to_bytes().hex()
                          for (desk, epoch), k in epoch_keys.items()}).encode()
    id_hash = _id_hash(session_id)
    sealed = nonce + AESGCM(key).encrypt(nonce, payload, id_hash.encode())
    db.add(ReviewSession(id_hash=id_hash, user_id=user.id, sealed_keys=sealed, started_at=now,
                         seen_at=now))
    return ".".join(base64.urlsafe_b64encode(v).decode() for v in (session_id, key))


def load(db: Session, cookie: str | None, now: int) -> Unlocked | None:
    """Return the live session a cookie names, deleting it if it has expired."""
    try:
        session_id, key = (base64.urlsafe_b64decode(part) for part in (cookie or "").split("."))
    except ValueError:
        return None
    record = db.get(ReviewSession, _id_hash(session_id))
    if record is None:
        return None
    if now - record.seen_at > IDLE_SECONDS or now - record.started_at > ABSOLUTE_SECONDS:
        db.delete(record)
        db.commit()
        return None
    user = db.get(User, record.user_id)
    try:
        payload = AESGCM(key).decrypt(record.sealed_keys[:12], record.sealed_keys[12:],
                                      record.id_hash.encode())
    except (InvalidTag, ValueError):
        return None
    if user is None or user.state != "active":
        return None
    if now - record.seen_at > 60:
        record.seen_at = now
        db.commit()
    keys = {(name.split("/")[0], int(name.split("/")[1])): PrivateKey(bytes.fromhex(raw))
            for name, raw in json.loads(payload).items()}
    return Unlocked(record, user, keys)


def id_hash_of_cookie(cookie: str | None) -> str:
    """Return the stored id of the session a cookie names ("" if it names none)."""
    try:
        return _id_hash(base64.urlsafe_b64decode((cookie or "").split(".")[0]))
    except ValueError:
        return ""


def end(db: Session, cookie: str | None) -> None:
    """Delete the session a cookie names (logout)."""
    try:
        session_id = base64.urlsafe_b64decode((cookie or "").split(".")[0])
    except ValueError:
        return
    db.query(ReviewSession).filter_by(id_hash=_id_hash(session_id)).delete()
    db.commit()


def end_all(db: Session, user_id: str) -> int:
    """Delete every session of a user (revocation, passphrase change); return how many."""
    count = db.query(ReviewSession).filter_by(user_id=user_id).delete()
    db.commit()
    return count
