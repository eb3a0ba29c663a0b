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
from intake.desk import share_requests
from intake.desk.desks import DeskInfo, all_desks
from intake.store.blobs import utc_today
from intake.store.models import Submission
from intake.store.throttle import Busy
from intake.testimonies import pending
from intake.testimonies.cases import replies_for_family
from intake.testimonies.codes import MAX_CODE_CHARS, normalise_code
from intake.testimonies.submissions import NewSubmission, ReceivedFile, case_outline, find_case
from intake.web.bound import get_code_gate, get_desk, get_settings, get_store, get_uploads
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
from intake.web.followup.forms import AddForm, CodeForm, ShareForm


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
    return status_page(case, family_key, fresh_add_form(form.code.data))


def fresh_add_form(code: str) -> AddForm:
    """Make the addition form for a case just opened with this code."""
    return AddForm(formdata=None, code=code, form_nonce=new_nonce(),
                   files_key=pending.new_form_token())


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


@bp.post("/share")
def share() -> ResponseReturnValue:
    """Record the family's request that further organisations be given its case."""
    form = ShareForm()
    case, family_key = open_case(form.code.data or "")
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True)
    try:
        share_requests.ask(get_session(), get_settings(), case, form.desks.data or [],
                           utc_today())
    except share_requests.ShareRefused as exc:
        return status_page(case, family_key, fresh_add_form(form.code.data or ""),
                           share_form=form, share_refused=exc.reason), 422
    return status_page(case, family_key, fresh_add_form(form.code.data or ""),
                       share_asked=True)


def status_page(case: Submission, family_key: PrivateKey, form: AddForm,
                **notices: object) -> str:
    """Show a case's outline and replies, the form to add more and the desks to ask for
    (`share_form`, among the notices: the share form as sent, to show its ticks again)."""
    share_form = notices.pop("share_form", None)
    if not isinstance(share_form, ShareForm):
        share_form = ShareForm(formdata=None, code=form.code.data)
    session = get_session()
    outline = case_outline(session, get_desk(), case, family_key)
    settings = get_settings()
    named = {desk.id: desk for desk in all_desks(session, settings)}
    first = settings.first_desk or settings.desk_id
    replies = [(day, text, named.get(desk_id or first))
               for day, text, desk_id in replies_for_family(session, case, family_key)]
    asked = share_requests.asked_desks(session, case)
    progress = [(named.get(desk_id), status, named.get(by) if by else None, desk_id in asked)
                for desk_id, status, by in outline["desks"]]
    return render_template("followup/status.html", outline=outline, replies=replies, form=form,
                           progress=progress if len(progress) > 1 else [],
                           max_files=get_uploads().max_files,
                           share_form=share_form,
                           **share_choices(case, named), **notices)


def share_choices(case: Submission, named: dict[str, DeskInfo]) -> dict[str, list[DeskInfo]]:
    """Return the desks asked for and waiting, and those the family may still ask for."""
    session, settings = get_session(), get_settings()
    waiting = share_requests.pending(session, settings, case)
    unshared = share_requests.unshared(session, settings, case)
    return {"waiting": desks_named(named, waiting),
            "offered": desks_named(named, [d for d in unshared if d not in waiting])}


def desks_named(named: dict[str, DeskInfo], desk_ids: list[str]) -> list[DeskInfo]:
    """Return these desks' names and descriptions, in the order given."""
    return [named[desk_id] for desk_id in desk_ids if desk_id in named]


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
    if request.endpoint == "followup.share":
        return share_expired()
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


def share_expired() -> tuple[str, int]:
    """Show the case again, with the desks that were ticked, after an expired share form."""
    form = ShareForm()
    case, family_key = open_case(form.code.data or "")
    if case is None:
        return render_template("followup/enter.html", form=CodeForm(), not_found=True), 200
    return status_page(case, family_key, fresh_add_form(form.code.data or ""),
                       share_form=form, share_expired=True), 400
