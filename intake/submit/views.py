"""Views for families: landing page, testimony form, receipt."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable
from typing import cast

from flask import current_app, g, render_template, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import FormField

from ..codes import new_code, normalise_code
from ..db import get_session
from ..request import EncryptingRequest, UploadBatch
from ..submissions import (
    AlreadyReceived,
    ImageRefused,
    NewSubmission,
    ReceivedFile,
    store_submission,
)
from . import bp
from .forms import TestimonyForm

# File parts a form may carry, and the role each file gets in its description.
FILE_FIELDS = ("photo", "attachments")


@bp.get("/")
def index() -> str:
    """Show what the organisation does with a testimony and how to stay safe."""
    return render_template("submit/index.html")


@bp.get("/submit")
def form() -> str:
    """Show the testimony form with a fresh one-time nonce."""
    testimony = TestimonyForm(form_nonce=secrets.token_urlsafe(24))
    return render_template("submit/form.html", form=testimony)


@bp.post("/submit")
def submit() -> tuple[str, int] | str:
    """Encrypt and store a testimony, then show its follow-up code once."""
    testimony = TestimonyForm()
    refuse_unknown_fields(testimony)
    form_page = functools.partial(render_template, "submit/form.html", form=testimony)
    refused = refused_types(received_files())
    if not testimony.validate() or refused:
        return form_page(refused_types=refused, files_dropped=bool(request.upload_batch)), 422
    code = new_code(str(get_locale())) if testimony.want_code.data else None
    new = NewSubmission(
        answers=testimony.answers(), batch=upload_batch(), files=received_files(),
        keep_originals=testimony.keep_originals.data,
        family_code=normalise_code(code) if code else None,
        form_nonce=testimony.form_nonce.data or None)
    return file_or_refuse(new, form_page) or render_template("submit/receipt.html", code=code)


def file_or_refuse(new: NewSubmission, form_page: Callable[..., str]) -> tuple[str, int] | None:
    """Store a submission durably, or answer with why it was not stored."""
    try:
        store_submission(get_session(), current_app.extensions["intake.desk"], new,
                         dt.date.today())
    except AlreadyReceived:
        return render_template("submit/already_received.html"), 409
    except ImageRefused as refused:
        return form_page(**{refused.notice: refused.client_filename}, files_dropped=True), 422
    return None


def received_files() -> list[ReceivedFile]:
    """Pair each encrypted upload with what the browser said about it."""
    return [ReceivedFile(f.stream, f.filename or "", f.content_type or "",  # type: ignore[arg-type]
                         role=field)
            for field in FILE_FIELDS for f in request.files.getlist(field) if f.filename]


def refused_types(files: list[ReceivedFile]) -> list[str]:
    """Return the names of files whose type the admin's settings do not accept."""
    return [f.client_filename for f in files if not g.live_settings.accepts(f.client_filename)]


def upload_batch() -> UploadBatch:
    """Return this request's upload batch (made here if no file came), for its key and id."""
    return cast(EncryptingRequest, request).batch()


def refuse_unknown_fields(form: FlaskForm) -> None:
    """Refuse a form carrying fields this form does not have."""
    known: set[str] = set()
    for field in form:
        known |= {sub.name for sub in field} if isinstance(field, FormField) else {field.name}
    if set(request.form) - known or set(request.files) - (known & set(FILE_FIELDS)):
        raise BadRequest("unknown field")


@bp.get("/submit/done")
def done() -> str:
    """Thank the family and advise closing the browser; nothing of the code is shown again."""
    return render_template("submit/done.html")
