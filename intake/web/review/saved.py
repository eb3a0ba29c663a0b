"""Inbox filters: which arguments a case page carries, and which a reviewer may save."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session

from intake.store.models import SavedFilter, User

# Every argument that narrows the inbox; case pages carry them for next and previous.
FILTER_KEYS = ("q", "status", "assignee", "label", "priority", "from", "to", "unread")
# Only these are saved: they filter plaintext columns. Search text and labels are what
# reviewers look for inside ciphertext; saved, they would sit in the clear in the database.
SAVED_KEYS = ("status", "assignee", "priority", "from", "to", "unread")
NOT_SAVED = ("q", "label")
MOST_SAVED = 20


def filter_args(args: Mapping[str, str]) -> dict[str, Any]:
    """Keep the non-empty filter arguments of a request, to carry them to the next page."""
    return {key: str(args[key]) for key in FILTER_KEYS if args.get(key)}


def savable(args: Mapping[str, str], statuses: Iterable[str],
            user_ids: Iterable[str]) -> dict[str, str]:
    """Return the arguments that may be saved, each checked; anything else is dropped."""
    allowed_statuses, allowed_users = set(statuses), set(user_ids)
    checks: dict[str, Callable[[str], bool]] = {
        "status": lambda v: v in allowed_statuses,
        "assignee": lambda v: v in allowed_users,
        "priority": lambda v: v in {"0", "1", "2", "3"},
        "from": _is_day, "to": _is_day,
        "unread": lambda v: v == "1",
    }
    return {key: str(args[key]) for key in SAVED_KEYS
            if args.get(key) and checks[key](str(args[key]))}


def _is_day(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def save(db: Session, user: User, params: dict[str, str]) -> SavedFilter | None:
    """Save a filter for this reviewer unless it is empty, already saved, or one too many."""
    query = urlencode(sorted(params.items()))
    mine = db.query(SavedFilter).filter_by(user_id=user.id).all()
    if not params or len(mine) >= MOST_SAVED or any(f.params == query for f in mine):
        return None
    saved = SavedFilter(id=secrets.token_hex(16), user_id=user.id, params=query,
                        position=max((f.position for f in mine), default=0) + 1)
    db.add(saved)
    return saved


def saved_filters(db: Session, user: User) -> list[tuple[SavedFilter, dict[str, str]]]:
    """Return this reviewer's saved filters, oldest first, with their arguments."""
    rows = db.query(SavedFilter).filter_by(user_id=user.id).order_by(SavedFilter.position)
    return [(row, dict(parse_qsl(row.params))) for row in rows]
