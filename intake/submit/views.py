"""Views for families: landing page, follow-up code, testimony form, receipt.

The follow-up code is made before the testimony is written and travels in the
family's own forms (hidden fields, POST bodies, never a URL), so no reload,
back or language switch loses it; the server never stores it.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import cast

from flask import Response, current_app, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest
from wtforms import FormField

from .. import pending
from ..codes import new_code, parse_code
from ..db import get_session
from ..errors import render_csrf_error
from ..request import EncryptingRequest, UploadBatch
from ..storage import utc_today
from ..submissions import (
    AlreadyReceived,
    CodeTaken,
    ImageRefused,
    NewSubmission,
    ReceivedFile,
    store_submission,
)
from . import bp
from .forms import CodeForm, TestimonyForm

# File parts a form may carry, and the role each file gets in its description.
FILE_FIELDS = ("photo", "attachments")
# The code a browser was shown and has not yet sent, so that going back to /submit and on
# again shows the same code. Scoped to /submit, HttpOnly, gone when the browser closes,
# and deleted as soon as a testimony is sent with it or the family chooses no code.
SHOWN_CODE_COOKIE = "intake_shown_code"


@bp.get("/")
def index() -> str:
    """Show what the organisation does with a testimony and how to stay safe."""
    return render_template("submit/index.html")


@bp.get("/submit")
def form() -> str:
    """Offer a follow-up code before the testimony; it is shown only after a POST."""
    # The code is made here but shown on the next page, a POST response: reloading that
    # page, or a phone restoring it, sends this same code again instead of making a new
    # one. Once shown, it is also remembered for this page (see SHOWN_CODE_COOKIE), so
    # going back here and on again shows the same code.
    code = shown_code() or new_code(str(get_locale()))
    return render_template("submit/start.html", form=CodeForm(form_nonce=new_nonce(), code=code))


@bp.post("/submit/code")
def code_page() -> Response:
    """Show the carried follow-up code, word by word, in the page's language."""
    form = CodeForm()
    code = carried_code(form.code.data)
    response = make_response(render_template("submit/code.html", form=form,
                                              words=code.split()))
    return remember_shown_code(response, code)


def shown_code() -> str | None:
    """Return the code this browser was shown and has not yet sent, if any."""
    carried = request.cookies.get(SHOWN_CODE_COOKIE, "")
    try:
        return parse_code(base64.urlsafe_b64decode(carried.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def remember_shown_code(response: Response, code: str | None) -> Response:
    """Keep a shown code in a browser-session cookie for the submit pages; None forgets it."""
    if code is None:
        response.delete_cookie(SHOWN_CODE_COOKIE, path="/submit")
        return response
    response.set_cookie(SHOWN_CODE_COOKIE, base64.urlsafe_b64encode(code.encode()).decode(),
                        path="/submit", httponly=True, samesite="Strict",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.post("/submit/form")
def begin() -> tuple[str, int] | Response:
    """Open the testimony form, carrying the code once the family says it is written down."""
    form = CodeForm()
    if form.no_code.data:
        code = ""
    else:
        code = carried_code(form.code.data)
        if not form.written_down.data:
            form.written_down.errors = [_("Please write the words down, then tick this box.")]
            return render_template("submit/code.html", form=form, words=code.split()), 422
    testimony = TestimonyForm(formdata=None, form_nonce=form.form_nonce.data or new_nonce(),
                              code=code, files_key=pending.new_form_token())
    # A family that chose no code does not keep the one it may have been shown.
    return remember_shown_code(make_response(render_form(testimony)), code or None)


@bp.post("/submit/received")
def receipt_again() -> str:
    """Show the receipt again in another language, with the code the page carried."""
    form = CodeForm()
    code = parse_code(form.code.data or "")
    return render_template("submit/receipt.html", form=form, code=code)


@bp.post("/submit")
def submit() -> ResponseReturnValue:
    """Encrypt and store a testimony, or show the form again keeping everything sent."""
    testimony = TestimonyForm()
    refuse_unknown_fields(testimony)
    session, store = get_session(), current_app.extensions["intake.desk"].store
    pending.sweep_expired(session, store, int(time.time()))
    form_key = carried_form_key(testimony)
    # A file of a type the admin does not accept is never kept, whatever the button.
    refused = refused_types(received_files())
    accepted = [f for f in received_files() if f.client_filename not in refused]
    if testimony.action.data == "language" or testimony.remove_file.data:
        if testimony.remove_file.data:
            pending.remove(session, store, form_key, testimony.remove_file.data)
        return keep_and_show(testimony, form_key, accepted, 200, refused_types=refused)
    if not testimony.validate() or refused:
        return keep_and_show(testimony, form_key, accepted, 422, refused_types=refused)
    return send(testimony, form_key)


def send(testimony: TestimonyForm, form_key: pending.FormKey) -> ResponseReturnValue:
    """Store the accepted form with its pending and new files, then drop the pending copies."""
    session, store = get_session(), current_app.extensions["intake.desk"].store
    code = parse_code(testimony.code.data or "")
    restored = pending.restore(session, store, form_key, upload_batch(), int(time.time()))
    new = NewSubmission(
        answers=testimony.answers(), batch=upload_batch(), files=restored + received_files(),
        keep_originals=testimony.keep_originals.data, family_code=code,
        form_nonce=testimony.form_nonce.data or None)
    refused = file_or_refuse(new, lambda **notices: keep_and_show(
        testimony, form_key, received_files(), 422, **notices), code=code,
        code_taken=lambda: with_a_new_code(testimony, form_key))
    if refused:
        return refused
    pending.discard_all(session, store, form_key)
    # The code is now in use: the next testimony from this browser gets a new one.
    return remember_shown_code(make_response(render_template(
        "submit/receipt.html", code=code, form=CodeForm(formdata=None, code=code))), None)


def with_a_new_code(testimony: TestimonyForm, form_key: pending.FormKey) -> Response:
    """Show a form whose code another testimony uses again, everything kept, with a new code.

    Two windows of one browser carry the same code (see SHOWN_CODE_COOKIE), so a family
    writing about two relatives at once reaches this with the second; nothing is lost.
    """
    code = new_code(str(get_locale()))
    testimony.code.data = code
    # Only when two sends of one code race are this request's blobs already gone.
    files = [f for f in received_files() if not f.upload.blob.done]
    page, status = keep_and_show(testimony, form_key, files, 422, code_taken=True,
                                 files_dropped=len(files) < len(received_files()))
    return remember_shown_code(make_response(page, status), code)


def keep_and_show(testimony: TestimonyForm, form_key: pending.FormKey,
                  files: list[ReceivedFile], status: int, **notices: object) -> tuple[str, int]:
    """Keep the files this request carried as pending, and show the form again."""
    pending.keep_alive(get_session(), form_key, int(time.time()))
    if files:
        room = current_app.extensions["intake.uploads"]["max_files"] - len(
            pending.listing(get_session(), form_key, int(time.time())))
        notices["not_kept"] = pending.stash(get_session(), form_key, upload_batch(), files,
                                            int(time.time()), room)
    return render_form(testimony, form_key, **notices), status


def render_form(testimony: TestimonyForm, form_key: pending.FormKey | None = None,
                **notices: object) -> str:
    """Render the testimony form with its code, its pending files and the upload limits."""
    kept = (pending.listing(get_session(), form_key, int(time.time())) if form_key else [])
    code = parse_code(testimony.code.data or "")
    return render_template("submit/form.html", form=testimony, pending_files=kept,
                           code_words=code.split() if code else [],
                           max_files=current_app.extensions["intake.uploads"]["max_files"],
                           **notices)


def carried_form_key(testimony: TestimonyForm) -> pending.FormKey:
    """Return the key of the form's pending files, making one if the form carried none."""
    form_key = pending.FormKey.from_token(testimony.files_key.data)
    if form_key is None:
        testimony.files_key.data = pending.new_form_token()
        form_key = pending.FormKey.from_token(testimony.files_key.data)
    return cast(pending.FormKey, form_key)


def carried_code(carried: str | None) -> str:
    """Return the code a code page carried; refuse one this server could not have made."""
    code = parse_code(carried or "")
    if code is None:
        raise BadRequest("not a follow-up code")
    return code


def file_or_refuse(new: NewSubmission, form_page: Callable[..., ResponseReturnValue],
                   code: str | None = None,
                   code_taken: Callable[[], Response] | None = None,
                   ) -> tuple[Response, int] | None:
    """Store a submission durably, or answer with why it was not stored.

    `code_taken` answers a code another testimony already uses; without it, a page
    says so.
    """
    try:
        store_submission(get_session(), current_app.extensions["intake.desk"], new,
                         utc_today())
    except AlreadyReceived:
        page = render_template("submit/already_received.html", code=code,
                               form=CodeForm(formdata=None, code=code))
        return remember_shown_code(make_response(page, 409), None), 409
    except CodeTaken:
        if code_taken is not None:
            taken = code_taken()
            return taken, taken.status_code
        page = render_template("submit/code_taken.html")
        return remember_shown_code(make_response(page, 409), None), 409
    except ImageRefused as refused:
        return make_response(form_page(**{refused.notice: refused.client_filename})), 422
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


def new_nonce() -> str:
    """Make a one-time nonce for a form."""
    return secrets.token_urlsafe(24)


@bp.errorhandler(CSRFError)
def expired(error: CSRFError) -> tuple[str, int]:
    """Show an expired form again with what was typed and a fresh token; lose nothing.

    Only for a form sent from our own pages: another site could otherwise post a code
    of its choosing and have it handed back with a valid token (the family would then
    send a testimony under a code the other site knows).
    """
    if request.headers.get("Sec-Fetch-Site") != "same-origin":
        return render_csrf_error(error)
    if request.endpoint == "submit.submit":
        testimony = TestimonyForm()
        refuse_unknown_fields(testimony)
        return keep_and_show(testimony, carried_form_key(testimony), received_files(), 400,
                             expired=True)
    if request.endpoint in ("submit.code_page", "submit.begin"):
        form = CodeForm()
        return render_template("submit/code.html", form=form,
                               words=carried_code(form.code.data).split(), expired=True), 400
    return render_csrf_error(error)


@bp.get("/submit/done")
def done() -> str:
    """Thank the family and advise closing the browser; nothing of the code is shown again."""
    return render_template("submit/done.html")
