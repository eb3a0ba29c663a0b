"""The inbox as a workbench: bulk actions, saved filters, next and previous case."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, or_
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from intake.crypto import DecryptionError
from intake.desk import audit, desks
from intake.staff import sessions
from intake.staff.sessions import Unlocked
from intake.store.models import SavedFilter, Submission, User
from intake.testimonies import cases
from intake.web.bound import get_settings
from intake.web.database import get_session
from intake.web.review import saved
from intake.web.review.blueprint import bp
from intake.web.review.forms import STATUSES, BulkForm, SaveFilterForm
from intake.web.review.inbox import filtered, matches, searchable
from intake.web.staff_auth import current, current_desk_id, reviewer_required, vetted
from intake.web.testimony_form import choices

MOST_AT_ONCE = 500


def desk_accounts(db: Session) -> list[User]:
    """Return every account of this reviewer's desk by name, revoked ones included."""
    return desks.accounts_of(db, current_desk_id(), get_settings())


def active_users(db: Session) -> list[User]:
    """Return the accounts of this reviewer's desk a case can be assigned to (never another
    desk's: their names would tell this desk who works elsewhere)."""
    return [user for user in desk_accounts(db) if user.state == "active"]


def refuse_unvetted() -> ResponseReturnValue | None:
    """Answer an account nobody has vetted with the page saying so; None for anyone else."""
    if vetted(current()):
        return None
    return render_template("review/refused.html", reason="unvetted"), 403


@bp.post("/bulk")
@reviewer_required
def bulk() -> ResponseReturnValue:
    """Assign, set the status of, or label every selected case, each audited on its own."""
    refused = refuse_unvetted()
    if refused is not None:
        return refused
    db, back = get_session(), saved.filter_args(request.args)
    form = BulkForm()
    form.assignee.choices = choices(("", "—"), *((u.id, u.name) for u in active_users(db)))
    chosen = form.case.data or []
    if not form.validate() or not chosen or len(chosen) > MOST_AT_ONCE:
        return redirect(url_for("review.inbox", **back, bulk="invalid"))
    changed = skipped = 0
    for case_id in dict.fromkeys(chosen):
        outcome = apply(db, current(), case_id, form)
        changed, skipped = changed + (outcome is True), skipped + (outcome is None)
    sessions.keep_case_keys(db, current())
    db.commit()
    return redirect(url_for("review.inbox", **back, changed=changed, skipped=skipped))


def apply(db: Session, unlocked: Unlocked, case_id: str, form: BulkForm) -> bool | None:
    """Carry out the action on one case: True if changed, False if already so, None if the
    case is not one this session can read (nothing is done to it)."""
    submission, desk_id = db.get(Submission, case_id), current_desk_id()
    # A case not given to this desk is skipped like one that does not exist.
    if submission is None or submission.parent_id is not None \
            or not desks.is_sealed_to(db, submission, desk_id):
        return None
    try:
        key = cases.session_data_key(submission, unlocked)
    except (cases.Locked, DecryptionError, ValueError):
        return None
    # This desk's own triage of the case: the other chosen desks keep theirs.
    work = cases.work_of(db, submission, desk_id)
    if form.action.data == "status":
        before = work.status
        # The single-case rule holds here too: lifting a hold releases replies.
        cases.set_status(db, unlocked.user.id, submission, key, form.status.data, work)
        return work.status != before
    if form.action.data == "assign":
        assignee = form.assignee.data or None
        if work.assignee_id == assignee:
            return False
        work.assignee_id = assignee
        audit.record(db, unlocked.user.id, "assign", submission.id, assignee or "none")
        return True
    present = cases.labels(work, key)
    label = (form.label.data or "").strip()
    if label in present:
        return False
    cases.set_labels(work, key, [*present, label])
    # The label is ciphertext in the case; the log says only that one was added.
    audit.record(db, unlocked.user.id, "label_add", submission.id)
    return True


@bp.post("/filters")
@reviewer_required
def save_filter() -> ResponseReturnValue:
    """Save the inbox filter in the query string for this reviewer (plaintext columns only)."""
    refused = refuse_unvetted()
    if refused is not None:
        return refused
    db, unlocked = get_session(), current()
    back = saved.filter_args(request.args)
    if SaveFilterForm().validate():
        params = saved.savable(request.args, [c.value for c in STATUSES],
                               [u.id for u in active_users(db)])
        if saved.save(db, unlocked.user, params) is not None:
            audit.record(db, unlocked.user.id, "filter_save")
            db.commit()
    return redirect(url_for("review.inbox", **back))


@bp.post("/filters/<filter_id>/delete")
@reviewer_required
def delete_filter(filter_id: str) -> ResponseReturnValue:
    """Delete one of the reviewer's own saved filters."""
    refused = refuse_unvetted()
    if refused is not None:
        return refused
    db, unlocked = get_session(), current()
    row = db.get(SavedFilter, filter_id)
    if row is None or row.user_id != unlocked.user.id:
        raise NotFound
    if SaveFilterForm().validate():
        db.delete(row)
        db.commit()
    return redirect(url_for("review.inbox", **saved.filter_args(request.args)))


def neighbours(db: Session, unlocked: Unlocked, args: dict[str, str],
               submission: Submission) -> tuple[str | None, str | None]:
    """Return the ids of the cases above (newer) and below (older) this one in the filter."""
    query = filtered(db, unlocked, args)
    words, label = searchable(args.get("q", "")).split(), args.get("label", "").strip()
    day, case_id = submission.received_on, submission.id
    if not words and not label:
        newer = query.filter(or_(Submission.received_on > day, and_(
            Submission.received_on == day, Submission.id > case_id)))
        older = query.filter(or_(Submission.received_on < day, and_(
            Submission.received_on == day, Submission.id < case_id)))
        above = newer.order_by(None).order_by(Submission.received_on, Submission.id)
        return (_first_id(above), _first_id(older))
    return _searched_neighbours(db, unlocked, query, words, label, submission)


def _first_id(query) -> str | None:  # type: ignore[no-untyped-def]
    row = query.with_entities(Submission.id).first()
    return row[0] if row else None


def _searched_neighbours(db: Session, unlocked: Unlocked, query,  # type: ignore[no-untyped-def]
                         words: list[str], label: str,
                         submission: Submission) -> tuple[str | None, str | None]:
    """Walk the filter in inbox order, searching as the inbox does, until past this case."""
    kept = set(matches(db, unlocked, query, words, label))
    here = (submission.received_on, submission.id)
    newer = None
    for row in query.with_entities(Submission.id, Submission.received_on):
        if row.id == submission.id or row.id not in kept:
            continue
        if (row.received_on, row.id) > here:
            newer = row.id
        else:
            return newer, row.id
    return newer, None
