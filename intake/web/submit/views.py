"""Views for families: landing page, follow-up code, testimony form, receipt.

The follow-up code is made before the testimony is written and travels in the
family's own forms (hidden fields, POST bodies, never a URL), so no reload,
back or language switch loses it; the server never stores it.
"""

from __future__ import annotations

import time

from flask import Response, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from intake.desk.desks import DeskInfo, open_desks
from intake.testimonies import pending
from intake.testimonies.codes import new_code, parse_code
from intake.testimonies.submissions import NewSubmission, ReceivedFile
from intake.web.bound import get_settings, get_store, get_uploads
from intake.web.database import get_session, unless_busy
from intake.web.errors import render_csrf_error
from intake.web.family_forms import (
    accepted_files,
    carried_form_key,
    file_or_refuse,
    keep_unless_busy,
    new_nonce,
    pending_listing,
    received_files,
    refuse_unknown_fields,
    remember_shown_code,
    shown_code,
    upload_batch,
)
from intake.web.submit.blueprint import bp
from intake.web.testimony_form import CodeForm, TestimonyForm


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
    session, store = get_session(), get_store()
    with unless_busy():
        pending.sweep_expired(session, store, int(time.time()))
    form_key = carried_form_key(testimony)
    refused, accepted = accepted_files()
    offer_desks(testimony)
    if testimony.action.data == "language" or testimony.remove_file.data:
        if testimony.remove_file.data:
            pending.remove(session, store, form_key, testimony.remove_file.data)
        return keep_and_show(testimony, form_key, accepted, 200, refused_types=refused)
    if not testimony.validate() or refused:
        return keep_and_show(testimony, form_key, accepted, 422, refused_types=refused)
    return send(testimony, form_key)


def send(testimony: TestimonyForm, form_key: pending.FormKey) -> ResponseReturnValue:
    """Store the accepted form with its pending and new files, then drop the pending copies."""
    session, store = get_session(), get_store()
    code = parse_code(testimony.code.data or "")
    restored = pending.restore(session, store, form_key, upload_batch(), int(time.time()))
    new = NewSubmission(
        answers=testimony.answers(), batch=upload_batch(), files=restored + received_files(),
        keep_originals=testimony.keep_originals.data, family_code=code,
        form_nonce=testimony.form_nonce.data or None, desk_ids=testimony.chosen_desks())
    refused = file_or_refuse(
        new, lambda **notices: keep_and_show(testimony, form_key, received_files(), 422,
                                             **notices),
        lambda: render_template("submit/already_received.html", code=code,
                                form=CodeForm(formdata=None, code=code)),
        code_taken=lambda: with_a_new_code(testimony, form_key))
    if refused:
        return refused
    # Stored: a busy database must not turn the receipt into an error. Pending copies
    # left then expire with their day and are swept.
    with unless_busy():
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
    keep_unless_busy(form_key, files, notices)
    return render_form(testimony, form_key, **notices), status


def render_form(testimony: TestimonyForm, form_key: pending.FormKey | None = None,
                **notices: object) -> str:
    """Render the testimony form with its code, its pending files and the upload limits."""
    kept = pending_listing(form_key)
    code = parse_code(testimony.code.data or "")
    offered = offer_desks(testimony)
    return render_template("submit/form.html", form=testimony, pending_files=kept,
                           desks=offered if len(offered) > 1 else [],
                           code_words=code.split() if code else [],
                           max_files=get_uploads().max_files,
                           **notices)


def offer_desks(testimony: TestimonyForm) -> list[DeskInfo]:
    """Offer the open desks on the form; return them, to show each one's name and work."""
    offered = open_desks(get_session(), get_settings())
    language = str(get_locale())
    testimony.desks.choices = [(desk.id, desk.name(language)) for desk in offered]
    return offered


def carried_code(carried: str | None) -> str:
    """Return the code a code page carried; refuse one this server could not have made."""
    code = parse_code(carried or "")
    if code is None:
        raise BadRequest("not a follow-up code")
    return code


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
        refused, accepted = accepted_files()
        return keep_and_show(testimony, carried_form_key(testimony), accepted, 400,
                             expired=True, refused_types=refused)
    if request.endpoint in ("submit.code_page", "submit.begin"):
        form = CodeForm()
        return render_template("submit/code.html", form=form,
                               words=carried_code(form.code.data).split(), expired=True), 400
    return render_csrf_error(error)


@bp.get("/submit/done")
def done() -> str:
    """Thank the family and advise closing the browser; nothing of the code is shown again."""
    return render_template("submit/done.html")
