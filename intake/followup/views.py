"""Views for a family's return visit. The code is never stored; it travels in the family's form."""

from __future__ import annotations

import secrets

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from ..cases import replies_for_family
from ..codes import normalise_code
from ..crypto import PrivateKey
from ..db import get_session
from ..models import Submission
from ..submissions import (
    NewSubmission,
    case_outline,
    find_case,
)
from ..submit.views import (
    current_upload_batch,
    file_or_refuse,
    received_files,
    refuse_unknown_fields,
)
from ..throttle import allow
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
    outline = case_outline(get_session(), current_app.extensions["intake.desk"], case,
                           family_key)
    add = AddForm(code=form.code.data, form_nonce=new_nonce())
    replies = replies_for_family(get_session(), case, family_key)
    return render_template("followup/status.html", outline=outline, replies=replies, form=add)


@bp.post("/add")
def add() -> tuple[str, int] | str:
    """Store more information or files as an addition to the same case."""
    form = AddForm()
    refuse_unknown_fields(form)
    if not form.validate():
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    case, _key = open_case(form.code.data)
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    files = [f for f in received_files() if g.live_settings.accepts(f.client_filename)]
    if not (form.addition.data or "").strip() and not files:
        return render_template("followup/added.html", nothing=True)
    new = NewSubmission(answers={"addition": form.addition.data or ""},
                        batch=request.upload_batch or current_upload_batch(), files=files,
                        keep_originals=form.keep_originals.data, parent_id=case.id,
                        form_nonce=form.form_nonce.data or None)
    return file_or_refuse(new) or render_template("followup/added.html")


def open_case(typed_code: str) -> tuple[Submission | None, PrivateKey]:
    """Throttle, then look the code up; every wrong code gets the same work and answer."""
    session = get_session()
    if not allow(session, "followup", current_app.extensions["intake.followup_rate"]):
        raise TooManyRequests
    return find_case(session, current_app.extensions["intake.desk"], normalise_code(typed_code))


def new_nonce() -> str:
    """Make a one-time nonce for a form."""
    return secrets.token_urlsafe(24)
