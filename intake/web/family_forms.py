"""What the family's two forms share: received files, pending files, storing, the shown code.

The testimony form (submit) and the follow-up addition form (followup) both take
files, keep them as pending files when the form comes back for a change (see
intake.testimonies.pending), and store a submission or say why not. Both blueprints use
these helpers; neither imports the other.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import cast

from flask import Response, current_app, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import FormField

from intake.store.blobs import utc_today
from intake.store.db import DatabaseBusy
from intake.testimonies import pending
from intake.testimonies.codes import parse_code
from intake.testimonies.submissions import (
    AlreadyReceived,
    CodeTaken,
    ImageRefused,
    NewSubmission,
    ReceivedFile,
    store_submission,
)
from intake.testimonies.uploads import UploadBatch
from intake.web.bound import cookie_secure, get_desk, get_uploads
from intake.web.database import get_session
from intake.web.request import EncryptingRequest

# File parts a form may carry, and the role each file gets in its description.
FILE_FIELDS = ("photo", "attachments")
# The code a browser was shown and has not yet sent, so that going back to /submit and on
# again shows the same code. Scoped to /submit, HttpOnly, gone when the browser closes,
# and deleted as soon as a testimony is sent with it or the family chooses no code.
SHOWN_CODE_COOKIE = "intake_shown_code"


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
                        secure=cookie_secure())
    return response


def file_or_refuse(new: NewSubmission, form_page: Callable[..., ResponseReturnValue],
                   received_page: Callable[[], str],
                   code_taken: Callable[[], Response] | None = None,
                   ) -> tuple[Response, int] | None:
    """Store a submission durably, or answer with why it was not stored.

    `form_page` shows the form again with a notice; `received_page` answers a form that
    was already stored (sent twice), in the words of the form it came from; `code_taken`
    answers a code another testimony already uses (without it, a page says so).
    """
    try:
        store_submission(get_session(), get_desk(), new,
                         utc_today())
    except AlreadyReceived:
        return remember_shown_code(make_response(received_page(), 409), None), 409
    except CodeTaken:
        if code_taken is not None:
            taken = code_taken()
            return taken, taken.status_code
        page = render_template("submit/code_taken.html")
        return remember_shown_code(make_response(page, 409), None), 409
    except ImageRefused as refused:
        return make_response(form_page(**{refused.notice: refused.client_filename})), 422
    except DatabaseBusy:
        # Not a 500: the family is told to send again, with everything it typed.
        current_app.logger.warning("database busy: a request was asked to try again")
        return make_response(form_page(busy=True)), 503
    return None


def received_files() -> list[ReceivedFile]:
    """Pair each encrypted upload with what the browser said about it."""
    return [ReceivedFile(f.stream, f.filename or "", f.content_type or "",  # type: ignore[arg-type]
                         role=field)
            for field in FILE_FIELDS for f in request.files.getlist(field) if f.filename]


def refused_types(files: list[ReceivedFile]) -> list[str]:
    """Return the names of files whose type the admin's settings do not accept."""
    return [f.client_filename for f in files if not g.live_settings.accepts(f.client_filename)]


def accepted_files() -> tuple[list[str], list[ReceivedFile]]:
    """Split this request's files: names of those of a refused type, and those to keep.

    A file of a type the admin does not accept is never kept, whatever the button or
    path (an expired token included): a kept file reaches the submission unchecked.
    """
    refused = refused_types(received_files())
    return refused, [f for f in received_files() if f.client_filename not in refused]


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


def carried_form_key(form: FlaskForm) -> pending.FormKey:
    """Return the key of the form's pending files, making one if the form carried none."""
    form_key = pending.FormKey.from_token(form.files_key.data)
    if form_key is None:
        form.files_key.data = pending.new_form_token()
        form_key = pending.FormKey.from_token(form.files_key.data)
    return cast(pending.FormKey, form_key)


def keep_pending(form_key: pending.FormKey, files: list[ReceivedFile]) -> list[str]:
    """Keep a form's newly received files as pending, up to the file limit; name the rest."""
    session, now = get_session(), int(time.time())
    pending.keep_alive(session, form_key, now)
    if not files:
        return []
    room = get_uploads().max_files - len(
        pending.listing(session, form_key, now))
    return pending.stash(session, form_key, upload_batch(), files, now, room)


def keep_unless_busy(form_key: pending.FormKey, files: list[ReceivedFile],
                     notices: dict[str, object]) -> None:
    """Keep the files as pending and note those not kept; while busy, write nothing more.

    When the database was too busy to store the testimony, storing pending files would
    wait as long again: the family chooses this round's files again instead.
    """
    if notices.get("busy"):
        notices["busy_files"] = bool(files)
    else:
        notices["not_kept"] = keep_pending(form_key, files)


def pending_listing(form_key: pending.FormKey | None) -> list[pending.Listed]:
    """List a form's pending files by name, for the re-rendered form."""
    return pending.listing(get_session(), form_key, int(time.time())) if form_key else []
