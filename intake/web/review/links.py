"""Views for linking testimonies that are about the same person."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from intake.crypto import DecryptionError
from intake.desk import audit, desks
from intake.staff import sessions
from intake.store.blobs import utc_today
from intake.store.models import CaseLink, Submission
from intake.testimonies import cases, linking
from intake.web.database import get_session
from intake.web.review.blueprint import bp
from intake.web.review.views import find, linked_ids
from intake.web.staff_auth import case_required, current, current_desk_id


@bp.get("/<case_id>/links")
@case_required
def suggest_links(case_id: str) -> ResponseReturnValue:
    """Decrypt the other cases and suggest those that seem to name the same person."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    answers = cases.answers(submission, cases.session_data_key(submission, unlocked))
    others, names = [], {}
    for other in db.query(Submission).filter(Submission.parent_id.is_(None),
                                             Submission.id != case_id,
                                             desks.sealed_to(current_desk_id())):
        try:
            found = cases.answers(other, cases.session_data_key(other, unlocked))
        except (cases.Locked, DecryptionError, ValueError):
            continue
        others.append((other.id, found))
        names[other.id] = found.get("name") or ""
    sessions.keep_case_keys(db, unlocked)
    suggested = [(other_id, names[other_id], points, reasons) for other_id, points, reasons
                 in linking.suggestions(answers, others)]
    return render_template("review/links.html", submission=submission,
                           name=answers.get("name"), suggested=suggested,
                           linked=set(linked_ids(case_id)))


@bp.post("/<case_id>/link/<other_id>")
@case_required
def confirm_link(case_id: str, other_id: str) -> ResponseReturnValue:
    """Record that two cases are about the same person; it shows on both."""
    db, unlocked = get_session(), current()
    both = find(case_id), find(other_id)
    for submission in both:
        # Only someone who can read both testimonies may say they are about one person.
        cases.data_key(submission, unlocked.epoch_keys)
    first, second = sorted(s.id for s in both)
    if first != second and db.get(CaseLink, (first, second)) is None:
        db.add(CaseLink(first_id=first, second_id=second, confirmed_by=unlocked.user.id,
                        confirmed_on=utc_today()))
        audit.record(db, unlocked.user.id, "link", case_id, other_id)
        db.commit()
    return redirect(url_for("review.case", case_id=case_id))
