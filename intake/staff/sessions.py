"""Reviewer sessions: unlocked epoch keys kept server-side, encrypted under a key the cookie holds.

The database row alone does not decrypt anything: its key exists only in the
reviewer's browser cookie. Logout, expiry and revocation delete the row, and
with it every way back to the keys. Expired rows are deleted at every session
check and by a sweep each worker runs at most once a minute on any request,
so that an old cookie found later meets no row to open.

What a session decrypts for searching (each case's search text) is kept in
the worker process's memory only, keyed to the session's stored id, for at
most MAX_REMEMBERED sessions, and dropped when the session ends, expires or
is revoked (here, or at the next search in a process where it ended elsewhere).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from intake.crypto import CaseKeys, IndexKey, PrivateKey, SigningPrivateKey
from intake.desk.trust import Signer
from intake.store.models import ReviewSession, User

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
EpochKeys = dict[tuple[str, int], PrivateKey]


# Case data keys a session keeps once opened: each case's id, how many generations, and
# 32 bytes per generation (50 bytes for a case never rotated), for at most 100,000 cases.
MAX_CASE_KEYS = 100_000
_CASE_ID, _COUNT, _KEY = 16, 2, 32


@dataclass
class Unlocked:
    """A live session: who it belongs to, the epoch keys it unlocked, the case keys it opened.

    The case keys add nothing to what the epoch keys already open; keeping them
    spares a search over every case one HPKE open per case after the first.
    Each entry holds every data key generation of its case that the session has
    opened; a case with a newer generation than the entry is opened again.
    """

    record: ReviewSession
    user: User
    epoch_keys: EpochKeys
    case_keys: dict[str, CaseKeys] = field(default_factory=dict)
    cookie_key: bytes = b""
    opened: int = 0
    # The account's signing key and pinned root, for certificates an admin issues
    # (vetting, revocation); None before the keyring is certified.
    signer: Signer | None = None
    _index_keys: dict[tuple[str, int], IndexKey] = field(default_factory=dict, repr=False)

    def index_key(self, desk_id: str, epoch_id: int) -> IndexKey | None:
        """Return an epoch's search index key, None without that epoch (derived once)."""
        found = self._index_keys.get((desk_id, epoch_id))
        epoch_key = self.epoch_keys.get((desk_id, epoch_id))
        if found is None and epoch_key is not None:
            found = self._index_keys[desk_id, epoch_id] = IndexKey(
                epoch_key, desk_id=desk_id, epoch_id=epoch_id)
        return found

    def newest_index_key(self, desk_id: str) -> IndexKey | None:
        """Return the index key of the newest epoch of a desk this session holds, if any."""
        held = [epoch for desk, epoch in self.epoch_keys if desk == desk_id]
        return self.index_key(desk_id, max(held)) if held else None


# Plaintext derived for a session, per process: session id hash -> what it keeps.
MAX_REMEMBERED = 8
_REMEMBERED: OrderedDict[str, dict[str, Any]] = OrderedDict()
_REMEMBERED_LOCK = threading.Lock()


def remembered(unlocked: Unlocked) -> dict[str, Any]:
    """Return this process's memory for a live session; the least recently used is dropped."""
    with _REMEMBERED_LOCK:
        memory = _REMEMBERED.setdefault(unlocked.record.id_hash, {})
        _REMEMBERED.move_to_end(unlocked.record.id_hash)
        while len(_REMEMBERED) > MAX_REMEMBERED:
            _REMEMBERED.popitem(last=False)
        return memory


def forget(*id_hashes: str) -> None:
    """Drop what this process keeps for these sessions."""
    with _REMEMBERED_LOCK:
        for id_hash in id_hashes:
            _REMEMBERED.pop(id_hash, None)


def forget_ended(db: Session) -> None:
    """Drop what this process keeps for sessions that ended anywhere (their rows are gone)."""
    with _REMEMBERED_LOCK:
        kept = list(_REMEMBERED)
    if kept:
        live = set(db.scalars(select(ReviewSession.id_hash).where(
            ReviewSession.id_hash.in_(kept))))
        forget(*(id_hash for id_hash in kept if id_hash not in live))


def _id_hash(session_id: bytes) -> str:
    return hashlib.sha256(b"intake/review-session" + session_id).hexdigest()


def start(db: Session, user: User, epoch_keys: EpochKeys, now: int,
          signer: Signer | None = None) -> str:
    """Store a new session and return the cookie value (session id and key)."""
    session_id, key, nonce = secrets.token_bytes(32), os.urandom(32), os.urandom(12)
    entries = {f"{desk}/{epoch}": k.to_bytes().hex() for (desk, epoch), k in epoch_keys.items()}
    if signer is not None:
        entries.update(signing=signer.key.to_bytes().hex(), root=signer.root.hex())
    payload = json.dumps(entries).encode()
    id_hash = _id_hash(session_id)
    sealed = nonce + AESGCM(key).encrypt(nonce, payload, id_hash.encode())
    db.add(ReviewSession(id_hash=id_hash, user_id=user.id, sealed_keys=sealed, started_at=now,
                         seen_at=now))
    return ".".join(base64.urlsafe_b64encode(v).decode() for v in (session_id, key))


def _dead(now: int) -> ColumnElement[bool]:
    """Rows past their idle or absolute limit, or of an account that is no longer active."""
    inactive = select(User.id).where(User.state != "active").scalar_subquery()
    return or_(ReviewSession.seen_at < now - IDLE_SECONDS,
               ReviewSession.started_at < now - ABSOLUTE_SECONDS,
               ReviewSession.user_id.in_(inactive))


def sweep(db: Session, now: int) -> int:
    """Delete every expired session row, and every row of an inactive account; say how many."""
    # Read first: most checks find nothing, and a read takes no write lock.
    dead = db.scalars(select(ReviewSession.id_hash).where(_dead(now))).all()
    if not dead:
        return 0
    db.query(ReviewSession).filter(ReviewSession.id_hash.in_(dead)).delete(
        synchronize_session=False)
    db.commit()
    forget(*dead)
    return len(dead)


def load(db: Session, cookie: str | None, now: int) -> Unlocked | None:
    """Return the live session a cookie names; delete every expired or revoked one first."""
    try:
        session_id, key = (base64.urlsafe_b64decode(part) for part in (cookie or "").split("."))
    except ValueError:
        return None
    # A revoked account's row is deleted here even if its revocation missed it (a login
    # that finished while the account was being revoked), so it opens nothing again.
    sweep(db, now)
    record = db.get(ReviewSession, _id_hash(session_id))
    if record is None:
        return None
    user = db.get(User, record.user_id)
    if user is None or user.state != "active":
        return None
    try:
        payload = AESGCM(key).decrypt(record.sealed_keys[:12], record.sealed_keys[12:],
                                      record.id_hash.encode())
    except (InvalidTag, ValueError):
        return None
    if now - record.seen_at > 60:
        record.seen_at = now
        db.commit()
    entries = json.loads(payload)
    keys = {(name.split("/")[0], int(name.split("/")[1])): PrivateKey(bytes.fromhex(raw))
            for name, raw in entries.items() if "/" in name}
    signer = None
    if "signing" in entries:
        signer = Signer(user.id, SigningPrivateKey(bytes.fromhex(entries["signing"])),
                        bytes.fromhex(entries["root"]))
    return Unlocked(record, user, keys, _open_case_keys(record, key), key, signer=signer)


def _case_keys_aad(record: ReviewSession) -> bytes:
    # "/2": entries with generations; a record kept in the older format opens as empty.
    return f"{record.id_hash}/case-keys/2".encode()


def _open_case_keys(record: ReviewSession, key: bytes) -> dict[str, CaseKeys]:
    """Decrypt the case keys this session opened before (none if they do not open)."""
    sealed = record.sealed_case_keys
    if not sealed:
        return {}
    try:
        raw = AESGCM(key).decrypt(sealed[:12], sealed[12:], _case_keys_aad(record))
    except (InvalidTag, ValueError):
        return {}
    found, position = {}, 0
    while position < len(raw):
        case_id = raw[position:position + _CASE_ID].hex()
        position += _CASE_ID + _COUNT
        count = int.from_bytes(raw[position - _COUNT:position], "big")
        found[case_id] = CaseKeys(tuple(raw[position + n * _KEY:position + (n + 1) * _KEY]
                                        for n in range(count)))
        position += count * _KEY
    return found


def _case_keys_bytes(case_keys: dict[str, CaseKeys]) -> bytes:
    """Encode the newest MAX_CASE_KEYS entries: id, generation count, then each key."""
    entries = list(case_keys.items())[-MAX_CASE_KEYS:]
    return b"".join(bytes.fromhex(case_id) + len(keys.generations).to_bytes(_COUNT, "big")
                    + b"".join(keys.generations) for case_id, keys in entries)


def keep_case_keys(db: Session, unlocked: Unlocked) -> None:
    """Store the case keys opened during this request with the session, if there are new ones."""
    if not unlocked.opened or not unlocked.cookie_key:
        return
    raw = _case_keys_bytes(unlocked.case_keys)
    nonce = os.urandom(12)
    unlocked.record.sealed_case_keys = nonce + AESGCM(unlocked.cookie_key).encrypt(
        nonce, raw, _case_keys_aad(unlocked.record))
    unlocked.opened = 0
    db.commit()


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
    forget(_id_hash(session_id))


def end_all(db: Session, user_id: str) -> int:
    """Delete every session of a user (revocation, passphrase change); return how many."""
    ended = db.scalars(select(ReviewSession.id_hash).filter_by(user_id=user_id)).all()
    count = db.query(ReviewSession).filter_by(user_id=user_id).delete()
    db.commit()
    forget(*ended)
    return count
