"""Referring a case to another desk of the coalition (with the family's consent only)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound

from intake.desk import referral
from intake.desk.desks import all_desks
from intake.testimonies import cases
from intake.web.bound import get_desk, get_settings
from intake.web.database import get_session
from intake.web.review.blueprint import bp
from intake.web.review.views import find
from intake.web.staff_auth import case_required, current, current_desk_id


@bp.post("/<case_id>/refer")
@case_required
def refer(case_id: str) -> ResponseReturnValue:
    """Share the case with another desk, if the family's consent covers it."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    keys = cases.data_key(submission, unlocked.epoch_keys, db)
    if not FlaskForm().validate():
        return redirect(url_for("review.case", case_id=case_id))
    to_desk = request.form.get("desk", "")
    if to_desk not in {desk.id for desk in all_desks(db, get_settings())}:
        raise NotFound
    try:
        referral.refer(db, get_desk(), get_settings(), submission, keys, unlocked.epoch_keys,
                       unlocked.user, current_desk_id(), to_desk)
    except referral.ReferralRefused as exc:
        db.rollback()
        return render_template("review/referral_refused.html", reason=exc.reason,
                               submission=submission), 409
    return redirect(url_for("review.case", case_id=case_id, referred=to_desk))

