"""Views for a family's return visit. The code is never stored; it travels in the family's form."""

from __future__ import annotations

import functools
import secrets

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from ..cases import replies_for_family
from ..codes import MAX_CODE_CHARS, normalise_code
from ..crypto import PrivateKey
from ..db import get_session
from ..models import Submission
from ..submissions import (
    NewSubmission,
    case_outline,
    find_case,
)
from ..submit.views import (
    file_or_refuse,
    received_files,
    refuse_unknown_fields,
    refused_types,
    upload_batch,
)
from ..throttle import Busy
from . import bp
from .forms import AddForm, CodeForm


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
    return status_page(case, family_key, AddForm(code=form.code.data, form_nonce=new_nonce()))


@bp.post("/add")
def add() -> ResponseReturnValue:
    """Store more information or files as an addition to the same case."""
    form = AddForm()
    refuse_unknown_fields(form)
    case, family_key = open_case(form.code.data or "")
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    form_page = functools.partial(status_page, case, family_key, form)
    refused = refused_types(received_files())
    if not form.validate() or refused:
        return form_page(refused_types=refused, files_dropped=bool(request.upload_batch)), 422
    if not (form.addition.data or "").strip() and not received_files():
        return render_template("followup/added.html", nothing=True)
    new = NewSubmission(answers={"addition": form.addition.data or ""}, batch=upload_batch(),
                        files=received_files(), keep_originals=form.keep_originals.data,
                        parent_id=case.id, form_nonce=form.form_nonce.data or None)
    refused_page = functools.partial(form_page, files_dropped=True)
    return file_or_refuse(new, refused_page) or render_template("followup/added.html")


def status_page(case: Submission, family_key: PrivateKey, form: AddForm,
                **notices: object) -> str:
    """Show a case's outline and replies, and the form to add more."""
    session = get_session()
    outline = case_outline(session, current_app.extensions["intake.desk"], case, family_key)
    replies = replies_for_family(session, case, family_key)
    return render_template("followup/status.html", outline=outline, replies=replies, form=form,
                           **notices)


def open_case(typed_code: str) -> tuple[Submission | None, PrivateKey]:
    """Look a code up; every wrong code, of any length, gets the same work and answer."""
    code = normalise_code(typed_code)
    try:
        with current_app.extensions["intake.code_gate"].slot():
            case, family_key = find_case(get_session(), current_app.extensions["intake.desk"],
                                         code[:MAX_CODE_CHARS])
    except Busy:
        raise ServiceUnavailable from None
    return (case if len(code) <= MAX_CODE_CHARS else None), family_key


def new_nonce() -> str:
    """Make a one-time nonce for a form."""
    return secrets.token_urlsafe(24)
