"""Counting attempts per minute in the database, shared by every worker; no client data kept."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session


def allow(session: Session, key: str, per_minute: int, now: float | None = None) -> bool:
    """Count one attempt under `key`; say whether it is within the limit for this minute."""
    window = int((now if now is not None else time.time()) // 60)
    session.execute(text("DELETE FROM throttle WHERE window < :window"), {"window": window})
    session.execute(text(
        "INSERT INTO throttle (key, window, count) VALUES (:key, :window, 1) "
        "ON CONFLICT (key, window) DO UPDATE SET count = count + 1"),
        {"key": key, "window": window})
    count = session.execute(text("SELECT count FROM throttle WHERE key = :key AND "
                                 "window = :window"), {"key": key, "window": window}).scalar()
    session.commit()
    return int(count or 0) <= per_minute
