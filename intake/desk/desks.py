"""Coalition desks: the organisations of one instance, each with its own keys and accounts.

A desk's keys, epochs, recovery key and certificate chain live in the keyring
(desks/<desk>/); its name and what it does, per language, in the `desks`
table, which is what the form shows families. An account belongs to exactly
one desk: `users.desk_id`, where NULL is the instance's first desk (DESK_ID),
so accounts made before desks existed keep theirs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from intake.store.models import CaseDesk, DeskRecord, Submission, User

__all__ = ["DeskError", "DeskInfo", "DeskRecord", "account_desk", "all_desks", "is_sealed_to",
           "open_desks", "describe", "record_desk", "record_first_desk", "sealed_to", "stored_desk",
           "triage_is"]
from intake.store.settings import LANGUAGES, Settings

# As the keyring names a desk's folder (crypto._encoding.ID_PATTERN).
DESK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class DeskError(Exception):
    """A desk that cannot be made or named as asked; the message says why."""


@dataclass(frozen=True)
class DeskInfo:
    """A desk as families and admins see it: names and descriptions per language."""

    id: str
    names: dict[str, str]
    descriptions: dict[str, str]
    retired: bool = False

    def name(self, language: str) -> str:
        """Return the desk's name in `language`, else in any language it has."""
        return self.names.get(language) or next(iter(self.names.values()), self.id)

    def description(self, language: str) -> str:
        """Return what the desk does in `language`, else in any language it has."""
        return self.descriptions.get(language) or next(iter(self.descriptions.values()), "")


def account_desk(user: User, settings: Settings) -> str:
    """Return the desk an account works for."""
    return user.desk_id or settings.first_desk or settings.desk_id


def sealed_to(desk_id: str) -> ColumnElement[bool]:
    """Select the submissions a desk was given: its own and those shared with it."""
    return or_(Submission.desk_id == desk_id, Submission.id.in_(
        select(CaseDesk.submission_id).where(CaseDesk.desk_id == desk_id)))


def triage_is(desk_id: str, column: str, value: object) -> ColumnElement[bool]:
    """Select the cases whose triage by this desk (not another's) has `column` = `value`."""
    return or_(and_(Submission.desk_id == desk_id, getattr(Submission, column) == value),
               Submission.id.in_(select(CaseDesk.submission_id).where(
                   CaseDesk.desk_id == desk_id, getattr(CaseDesk, column) == value)))


def is_sealed_to(db: Session, submission: Submission, desk_id: str) -> bool:
    """Say whether a desk was given this submission (a desk not given it must not learn it
    exists)."""
    return submission.desk_id == desk_id or db.get(CaseDesk, (submission.id, desk_id)) is not None


def stored_desk(desk_id: str, settings: Settings) -> str | None:
    """Return what `users.desk_id` holds for an account of `desk_id` (NULL for the first)."""
    return None if desk_id == (settings.first_desk or settings.desk_id) else desk_id


def accounts_of(db: Session, desk_id: str, settings: Settings) -> list[User]:
    """List a desk's accounts by name."""
    stored = stored_desk(desk_id, settings)
    column = User.desk_id
    query = db.query(User).filter(column.is_(None) if stored is None else column == stored)
    return query.order_by(User.name).all()


def all_desks(db: Session, settings: Settings) -> list[DeskInfo]:
    """List every desk, retired ones included; an instance made before desks has its first."""
    rows = db.query(DeskRecord).order_by(DeskRecord.position, DeskRecord.id).all()
    if not rows:
        name = settings.organisation_name
        return [DeskInfo(settings.first_desk or settings.desk_id, {"fa": name, "en": name}, {})]
    return [DeskInfo(row.id, json.loads(row.names), json.loads(row.descriptions), row.retired)
            for row in rows]


def open_desks(db: Session, settings: Settings) -> list[DeskInfo]:
    """List the desks a family may choose (not retired), in the order the form shows them."""
    return [desk for desk in all_desks(db, settings) if not desk.retired]


def record_desk(db: Session, desk_id: str, names: dict[str, str],
                descriptions: dict[str, str]) -> DeskRecord:
    """Add a desk's row (names and descriptions checked), placed after the others."""
    if not DESK_ID.fullmatch(desk_id):
        raise DeskError("a desk id is 1-64 of a-z, 0-9 and '-', starting with a letter or digit")
    names = {lang: text.strip() for lang, text in names.items() if text and text.strip()}
    descriptions = {lang: text.strip() for lang, text in descriptions.items()
                    if text and text.strip()}
    if not names or set(names) - set(LANGUAGES) or set(descriptions) - set(LANGUAGES):
        raise DeskError(f"a desk needs a name, in {' or '.join(LANGUAGES)}")
    if any(len(text) > 200 for text in names.values()) \
            or any(len(text) > 1000 for text in descriptions.values()):
        raise DeskError("a desk's name is at most 200 characters, its description 1000")
    if db.get(DeskRecord, desk_id) is not None or any(
            isinstance(row, DeskRecord) and row.id == desk_id for row in db.new):
        raise DeskError(f"there is already a desk {desk_id}")
    pending = [row for row in db.new if isinstance(row, DeskRecord)]
    position = max((row.position for row in [*db.query(DeskRecord), *pending]), default=-1) + 1
    row = DeskRecord(id=desk_id, names=json.dumps(names, ensure_ascii=False),
                     descriptions=json.dumps(descriptions, ensure_ascii=False),
                     position=position, retired=False)
    db.add(row)
    return row


def describe(db: Session, settings: Settings, desk_id: str, names: dict[str, str],
             descriptions: dict[str, str]) -> None:
    """Change what families read of a desk (the texts given; the others are kept); commit."""
    record_first_desk(db, settings)
    db.flush()
    row = db.get(DeskRecord, desk_id)
    if row is None:
        raise DeskError(f"there is no desk {desk_id}")
    merged_names = json.loads(row.names) | {k: v.strip() for k, v in names.items() if v}
    merged = json.loads(row.descriptions) | {k: v.strip() for k, v in descriptions.items()
                                             if v is not None}
    if any(len(text) > 200 for text in merged_names.values()) \
            or any(len(text) > 1000 for text in merged.values()):
        raise DeskError("a desk's name is at most 200 characters, its description 1000")
    row.names = json.dumps(merged_names, ensure_ascii=False)
    row.descriptions = json.dumps({k: v for k, v in merged.items() if v}, ensure_ascii=False)
    db.commit()


def record_first_desk(db: Session, settings: Settings) -> None:
    """Give the instance's first desk its row, named after the organisation, if it has none."""
    first = settings.first_desk or settings.desk_id
    if db.get(DeskRecord, first) is None:
        name = settings.organisation_name
        record_desk(db, first, {"fa": name, "en": name}, {})
