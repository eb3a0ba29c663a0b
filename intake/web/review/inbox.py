"""The inbox: filters in SQL where the data is plaintext, and over decrypted text where not."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError
from intake.desk import desks
from intake.staff.sessions import Unlocked
from intake.store.models import Attachment, CaseRead, Submission
from intake.testimonies import cases, names
from intake.web.bound import get_settings

PAGE_SIZE = 50
# The answers that name people: a search word also finds their other spellings and scripts.
NAME_FIELDS = ("name", "other_names", "fathers_name")
SEARCHED_COLUMNS = (Submission.id, Submission.desk_id, Submission.epoch_id, Submission.sealed_key,
                    Submission.key_generation, Submission.answers, Submission.labels,
                    Submission.received_on, Submission.status)


@dataclass
class Page:
    """One page of the inbox."""

    rows: list[cases.Summary]
    number: int
    total: int
    unread: set[str]

    @property
    def last(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def searchable(text: str) -> str:
    """Fold digits, Arabic/Persian letter forms, hamza, diacritics, ZWNJ and case."""
    return names.fold(text)


def inbox_page(db: Session, unlocked: Unlocked, args: Mapping[str, str]) -> Page:
    """Return the page of cases the arguments ask for."""
    query = filtered(db, unlocked, args)
    number = max(1, int(args.get("page", "1") or 1) if str(args.get("page", "1")).isdigit() else 1)
    counts = dict(db.execute(select(Attachment.submission_id, func.count())
                             .group_by(Attachment.submission_id)).all())
    read = {sid for (sid,) in db.query(CaseRead.submission_id).filter_by(
        user_id=unlocked.user.id)}
    words, label = searchable(args.get("q", "")).split(), args.get("label", "").strip()
    if not words and not label:
        # Count ids only: counting whole rows would read every case's ciphertexts.
        total = query.with_entities(Submission.id).order_by(None).count()
        rows = query.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE).all()
        works = cases.works_of_desk(db, unlocked_desk(unlocked))
        return Page([cases.summarise(r, unlocked, counts.get(r.id, 0), works.get(r.id))
                     for r in rows], number, total, read)
    # Only the columns a match needs: building 10,000 ORM objects costs more than searching.
    rows = query.with_entities(*SEARCHED_COLUMNS).all()
    loaded, matcher = cases.load_generations(db, rows, unlocked), names.Matcher()
    works = cases.works_of_desk(db, unlocked_desk(unlocked))
    matches = [s for s in (matching(loaded, r, unlocked, (words, matcher), label, counts,
                                    works.get(r.id, r)) for r in rows) if s]
    return Page(matches[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], number, len(matches), read)


def filtered(db: Session, unlocked: Unlocked, args: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """Apply the filters on plaintext columns, newest first."""
    query = db.query(Submission).filter(Submission.parent_id.is_(None),
                                        desks.sealed_to(unlocked_desk(unlocked)))
    desk_id = unlocked_desk(unlocked)
    if args.get("status"):
        query = query.filter(desks.triage_is(desk_id, "status", args["status"]))
    if str(args.get("priority", "")).isdigit():
        query = query.filter(desks.triage_is(desk_id, "priority", int(args["priority"])))
    if args.get("assignee"):
        query = query.filter(desks.triage_is(desk_id, "assignee_id", args["assignee"]))
    for name, compare in (("from", Submission.received_on.__ge__),
                          ("to", Submission.received_on.__le__)):
        with contextlib.suppress(ValueError):
            query = query.filter(compare(dt.date.fromisoformat(args.get(name, ""))))
    if args.get("unread"):
        query = query.filter(~Submission.id.in_(
            select(CaseRead.submission_id).where(CaseRead.user_id == unlocked.user.id)))
    return query.order_by(Submission.received_on.desc(), Submission.id.desc())


def unlocked_desk(unlocked: Unlocked) -> str:
    """Return the desk of a session's account: the only desk whose cases it lists."""
    return desks.account_desk(unlocked.user, get_settings())


def _texts(value: object) -> list[str]:
    """Collect every string inside decrypted answers (dates included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def matching(loaded: cases.Generations, submission: Submission, unlocked: Unlocked,
             query: tuple[list[str], names.Matcher], label: str, counts: dict[str, int],
             work: Any = None) -> cases.Summary | None:
    """Decrypt one case once and keep it if it has every word and the label."""
    work = submission if work is None else work
    try:
        key = cases.session_data_key(submission, unlocked, loaded=loaded)
        found, case_labels = cases.answers(submission, key), cases.labels(work, key)
    except (cases.Locked, DecryptionError, ValueError):
        return None
    if label and label not in case_labels:
        return None
    words, matcher = query
    if words:
        text = searchable(" ".join(_texts(found)))
        people = " ".join(str(found.get(field) or "") for field in NAME_FIELDS)
        # A word is in the text as typed, or it is a name in another script or spelling.
        if not all(word in text or matcher.finds(word, people) for word in words):
            return None
    return cases.summary_of(submission, found, case_labels, counts.get(submission.id, 0),
                            work.status)
