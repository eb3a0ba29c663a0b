"""Views for a family's return visit. The code is never stored; it travels in the family's form."""

from __future__ import annotations

import functools
import secrets
import time

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from intake.crypto import PrivateKey
from intake.store.models import Submission
from intake.store.throttle import Busy
from intake.testimonies import pending
from intake.testimonies.cases import replies_for_family
from intake.testimonies.codes import MAX_CODE_CHARS, normalise_code
from intake.testimonies.submissions import NewSubmission, ReceivedFile, case_outline, find_case
from intake.web.bound import get_code_gate, get_desk, get_store, get_uploads
from intake.web.database import get_session, unless_busy
from intake.web.errors import render_csrf_error
from intake.web.family_forms import (
    accepted_files,
    carried_form_key,
    file_or_refuse,
    keep_unless_busy,
    pending_listing,
    received_files,
    refuse_unknown_fields,
    upload_batch,
)
from intake.web.followup.blueprint import bp
from intake.web.followup.forms import AddForm, CodeForm


@bp.get("")
def enter() -> str:
    """Ask for the follow-up code."""
    return render_template("followup/enter.html", form=CodeForm())


@bp.get("/")
def status_without_code() -> Response:
    """Nothing is shown without a code."""
    return redirect(url_for("followup.enter"))


@bp.post("/")
def status() -> tuple[str, int] | str:
    """Open the case a code belongs to and show its outline and replies."""
    form = CodeForm()
    if not form.validate():
        return render_template("followup/enter.html", form=form), 422
    case, family_key = open_case(form.code.data)
    if case is None:
        return render_template("followup/enter.html", form=form, not_found=True)
    return status_page(case, family_key, AddForm(code=form.code.data, form_nonce=new_nonce(),
                                                 files_key=pending.new_form_token()))


@bp.post("/add")
def add() -> ResponseReturnValue:
    """Store more information or files as an addition, keeping files through every round.

    A language button, a remove button, an answer to change or a refused file shows the
    page again with what was typed, and the files received so far kept as pending files.
    """
    form = AddForm()
    refuse_unknown_fields(form)
    case, family_key = open_case(form.code.data or "")
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    session, store = get_session(), get_store()
    with unless_busy():
        pending.sweep_expired(session, store, int(time.time()))
    form_key = carried_form_key(form)
    refused, accepted = accepted_files()
    page = functools.partial(keep_and_show, case, family_key, form, form_key)
    if form.action.data == "language" or form.remove_file.data:
        if form.remove_file.data:
            pending.remove(session, store, form_key, form.remove_file.data)
        return page(accepted, 200, refused_types=refused)
    if not form.validate() or refused or nothing_to_add(form, form_key):
        return page(accepted, 422, refused_types=refused)
    restored = pending.restore(session, store, form_key, upload_batch(), int(time.time()))
    new = NewSubmission(answers={"addition": form.addition.data or ""}, batch=upload_batch(),
                        files=restored + received_files(),
                        keep_originals=form.keep_originals.data, parent_id=case.id,
                        form_nonce=form.form_nonce.data or None)
    refused_page = functools.partial(page, received_files(), 422)
    answer = file_or_refuse(new, refused_page,
                            lambda: render_template("submit/already_received.html", code=None))
    if answer:
        return answer
    # Stored: a busy database must not turn the receipt into an error. Pending copies
    # left then expire with their day and are swept.
    with unless_busy():
        pending.discard_all(session, store, form_key)
    return render_template("followup/added.html")


def nothing_to_add(form: AddForm, form_key: pending.FormKey) -> bool:
    """Mark an addition with no text and no file, new or pending, as an error on its answer."""
    if (form.addition.data or "").strip() or received_files() or pending_listing(form_key):
        return False
    form.addition.errors = [_("Write what you would like to add, or choose a file.")]
    return True


def keep_and_show(case: Submission, family_key: PrivateKey, form: AddForm,
                  form_key: pending.FormKey, files: list[ReceivedFile], status: int,
                  **notices: object) -> tuple[str, int]:
    """Keep the files this request carried as pending, and show the case page again."""
    keep_unless_busy(form_key, files, notices)
    return status_page(case, family_key, form, pending_files=pending_listing(form_key),
                       **notices), status


def status_page(case: Submission, family_key: PrivateKey, form: AddForm,
                **notices: object) -> str:
    """Show a case's outline and replies, and the form to add more."""
    session = get_session()
    outline = case_outline(session, get_desk(), case, family_key)
    replies = replies_for_family(session, case, family_key)
    return render_template("followup/status.html", outline=outline, replies=replies, form=form,
                           max_files=get_uploads().max_files,
                           **notices)


def open_case(typed_code: str) -> tuple[Submission | None, PrivateKey]:
    """Look a code up; every wrong code, of any length, gets the same work and answer."""
    code = normalise_code(typed_code)
    try:
        with get_code_gate().slot():
            case, family_key = find_case(get_session(), get_desk(),
                                         code[:MAX_CODE_CHARS])
    except Busy:
        raise ServiceUnavailable from None
    return (case if len(code) <= MAX_CODE_CHARS else None), family_key


def new_nonce() -> str:
    """Make a one-time nonce for a form."""
    return secrets.token_urlsafe(24)


@bp.errorhandler(CSRFError)
def expired(error: CSRFError) -> ResponseReturnValue:
    """Show an expired code or addition form again with what was typed; lose nothing.

    Only for a form sent from our own pages, as on the testimony form: another site
    must not be able to have a form, with a code of its choosing, handed back with a
    valid token (the family would then open, or add to, a case that site knows).
    """
    if request.headers.get("Sec-Fetch-Site") != "same-origin":
        return render_csrf_error(error)
    if request.endpoint == "followup.status":
        return render_template("followup/enter.html", form=CodeForm(), expired=True), 400
    if request.endpoint != "followup.add":
        return render_csrf_error(error)
    form = AddForm()
    refuse_unknown_fields(form)
    case, family_key = open_case(form.code.data or "")
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    refused, accepted = accepted_files()
    return keep_and_show(case, family_key, form, carried_form_key(form), accepted, 400,
                         expired=True, refused_types=refused)
