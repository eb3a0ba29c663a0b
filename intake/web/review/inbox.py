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
from intake.testimonies import cases, search
from intake.web.bound import get_settings

PAGE_SIZE = 50
LABEL_COLUMNS = (Submission.id, Submission.desk_id, Submission.epoch_id, Submission.sealed_key,
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
    """Fold a query as the search index folds what families wrote."""
    return search.normalise(text)


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
    ids = matches(db, unlocked, query, words, label)
    shown = ids[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    by_id = {s.id: s for s in db.query(Submission).filter(Submission.id.in_(shown))}
    works = cases.works_of_desk(db, unlocked_desk(unlocked))
    return Page([cases.summarise(by_id[i], unlocked, counts.get(i, 0), works.get(i))
                 for i in shown], number, len(ids), read)


def matches(db: Session, unlocked: Unlocked, query: Any, words: list[str],
            label: str) -> list[str]:
    """Return, in inbox order, the ids of the filtered cases with every word and the label."""
    ids = [case_id for (case_id,) in query.with_entities(Submission.id)]
    if words:
        # The index, not the cases: one AES-GCM row per case instead of one HPKE open.
        ids = search.matching(search.texts(db, unlocked, ids, unlocked_desk(unlocked)), ids,
                              words)
    if label:
        ids = labelled(db, unlocked, ids, label)
    return ids


def labelled(db: Session, unlocked: Unlocked, ids: list[str], label: str) -> list[str]:
    """Keep the cases, in order, whose labels by this desk (under its keys of each case)
    include `label`."""
    wanted, query = set(ids), select(*LABEL_COLUMNS)
    if len(ids) <= 500:  # the matches of a search, say; beyond that, read every row
        query = query.where(Submission.id.in_(ids))
    # Only the columns a label needs: building 10,000 ORM objects costs more than checking.
    rows = [row for row in db.execute(query) if row.id in wanted]
    loaded = cases.load_generations(db, rows, unlocked)
    # A case shared with this desk carries this desk's labels on its own row, not the case's.
    works = cases.works_of_desk(db, unlocked_desk(unlocked))
    keep = {row.id for row in rows
            if has_label(loaded, row, unlocked, label, works.get(row.id, row))}
    return [case_id for case_id in ids if case_id in keep]


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


def has_label(loaded: cases.Generations, submission: Any, unlocked: Unlocked,
              label: str, work: Any) -> bool:
    """Say whether a case (a row of LABEL_COLUMNS) opens and this desk's triage of it
    (`work`) carries the label."""
    try:
        key = cases.session_data_key(submission, unlocked, loaded=loaded)
        return label in cases.labels(work, key)
    except (cases.Locked, DecryptionError, ValueError):
        return False
