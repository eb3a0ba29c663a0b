"""Bounding what attempts cost, without keeping when anyone came.

Follow-up codes hold about 88 bits, so guessing one is infeasible however
fast the server answers; what needs a bound is the Argon2 work each attempt
costs. `WorkGate` bounds it in process memory, as a number of checks running
at once: a flood queues behind the gate and slows every visitor a little, but
no count of wrong codes locks any family out, and nothing is written down.

Reviewer logins and passphrase checks are counted per account in the
database, shared by every worker. A counter is named by a keyed hash of its
purpose and account (never the name itself, which an attacker may have
typed wrongly or guessed), holds only the current minute, and is deleted
when that minute has passed: at the next check, and on each sweep.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session


class Busy(Exception):
    """No slot for the work freed up in time."""


class WorkGate:
    """Let at most `slots` costly checks run at once in this process; others wait briefly."""

    def __init__(self, slots: int, wait_seconds: float) -> None:
        """Make a gate with this many slots and this longest wait for one."""
        self._slots = threading.BoundedSemaphore(slots)
        self._wait_seconds = wait_seconds

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot while the work runs; raise Busy if none frees up in time."""
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise Busy
        try:
            yield
        finally:
            self._slots.release()


def account_key(secret: bytes, purpose: str, account: str) -> str:
    """Name the counter of `purpose` for `account` without writing the account down."""
    # Keyed by an instance secret: without it, a seized table cannot be tested against names.
    message = b"intake/throttle\0" + purpose.encode() + b"\0" + account.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _window(now: float | None) -> int:
    return int((now if now is not None else time.time()) // 60)


def purge_expired(session: Session, now: float | None = None) -> None:
    """Delete the counters of minutes that have passed (the caller commits)."""
    # "window" is quoted: PostgreSQL reserves the word (SQLite accepts it either way).
    session.execute(text('DELETE FROM throttle WHERE "window" < :window'),
                    {"window": _window(now)})


def allow(session: Session, key: str, per_minute: int, now: float | None = None) -> bool:
    """Count one attempt under `key`; say whether it is within the limit for this minute."""
    window = _window(now)
    purge_expired(session, now)
    session.execute(text(
        'INSERT INTO throttle (key, "window", count) VALUES (:key, :window, 1) '
        'ON CONFLICT (key, "window") DO UPDATE SET count = throttle.count + 1'),
        {"key": key, "window": window})
    count = session.execute(text('SELECT count FROM throttle WHERE key = :key AND '
                                 '"window" = :window'), {"key": key, "window": window}).scalar()
    session.commit()
    return int(count or 0) <= per_minute
