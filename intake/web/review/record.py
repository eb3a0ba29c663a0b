"""Recording a testimony a reviewer took down by phone, in person or from paper.

It goes through the family's code path (store_submission): answers and scans
are encrypted exactly as a family's are, and nothing reaches disk in
plaintext (scans stream through the encrypting request class). Its
provenance is kept inside the encrypted answers; the audit log records who
recorded it.
"""

from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from intake.desk import audit
from intake.evidence.channels import provenance
from intake.store.blobs import utc_today
from intake.testimonies.submissions import (
    AlreadyReceived,
    ImageRefused,
    NewSubmission,
    store_submission,
)
from intake.web.bound import get_desk
from intake.web.database import get_session
from intake.web.family_forms import accepted_files, new_nonce, refuse_unknown_fields, upload_batch
from intake.web.review import present
from intake.web.review.blueprint import bp
from intake.web.review.forms import RecordForm
from intake.web.staff_auth import case_required, current, current_desk_id
from intake.web.testimony_form import TestimonyForm


@bp.get("/record")
@case_required
def record_form() -> ResponseReturnValue:
    """Show the form for a testimony given another way."""
    form = RecordForm(formdata=None)
    form.form_nonce.data = new_nonce()
    return _page(form)


def _page(form: RecordForm, **notices: object) -> str:
    return render_template("review/record.html", form=form, sections=present.SECTIONS,
                           dates=TestimonyForm.DATES, **notices)


@bp.post("/record")
@case_required
def record() -> ResponseReturnValue:
    """Encrypt and store a testimony given another way, with its provenance."""
    form = RecordForm()
    refuse_unknown_fields(form)
    refused, files = accepted_files()
    if not form.validate() or refused:
        return _page(form, refused=refused), 422
    unlocked, db = current(), get_session()
    answers = form.answers()
    answers["provenance"] = provenance(form.channel.data, unlocked.user.id, unlocked.user.name,
                                       dt.date.fromisoformat(form.taken_on.data))
    new = NewSubmission(answers=answers, batch=upload_batch(), files=files,
                        keep_originals=form.keep_originals.data,
                        form_nonce=form.form_nonce.data or None,
                        # The desk that took it down: sealed to it alone, as a family's choice.
                        desk_ids=[current_desk_id()])
    try:
        submission = store_submission(db, get_desk(), new, utc_today())
    except AlreadyReceived:
        return _page(form, already=True), 409
    except ImageRefused as exc:
        return _page(form, refused=[exc.client_filename]), 422
    audit.record(db, unlocked.user.id, "record", submission.id)
    db.commit()
    return redirect(url_for("review.case", case_id=submission.id))
