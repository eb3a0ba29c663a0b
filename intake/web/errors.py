"""Error pages in the visitor's language, carrying the same headers as any page."""

from __future__ import annotations

import traceback
from pathlib import Path

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)

from intake.store.db import is_busy
from intake.web.request import discard_body

# An oversized body is read and discarded up to this many times the upload limit.
DISCARD_FACTOR = 2


class StorageFull(HTTPException):
    """Free space is under the configured floor: new work is refused, old data kept."""

    code = 507
    description = "Insufficient storage"


def _messages() -> dict[int, str]:
    return {
        400: _("The form could not be read. Nothing was saved; please go back and try again."),
        403: _("You are not allowed to open this page."),
        404: _("This page does not exist."),
        405: _("This page cannot be used that way."),
        413: _("What you sent is larger than this service accepts. Nothing was saved."),
        414: _("This request was too large to read. Nothing was saved; please go back and "
               "try again."),
        429: _("Too many attempts. Please wait a while and try again."),
        500: _("Something went wrong on our side. Nothing you sent was stored in readable form."),
        503: _("This service is not available right now. Please try again later."),
        507: _("This service cannot accept new testimony right now because its storage is "
               "full. What was sent before is safe. Please try again in a few days."),
    }


def render_csrf_error(error: CSRFError) -> tuple[str, int]:
    """Explain an expired or foreign form without blaming the family."""
    message = _("This form has expired or was not sent from this site. Nothing was saved. "
                "Go back, reload the page and send it again; what you typed may still be there.")
    return render_template("errors/error.html", code=400, message=message), 400


def render_error(error: HTTPException) -> tuple[str, int]:
    """Render an HTTP error with a message a family can act on."""
    code = error.code or 500
    message = _messages().get(code) or _messages()[500]
    return render_template("errors/error.html", code=code, message=message), code


def render_too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """Read what is left of an oversized body, then explain.

    A browser cannot show a page while it is still sending: if the server closes
    with the body unread, the family sees "connection reset" and never learns why.
    The rest of the body is read and thrown away, up to twice the limit; past that
    the server closes the connection after the page, unread bytes and all.
    """
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    discard_body(request.environ, DISCARD_FACTOR * limit)
    return render_error(error)


def protocol_error_page(app: Flask, code: int) -> str:
    """Render the error page for a request the server refused before the app saw it."""
    # Oversized request lines and headers share one message; other refusals are 400's.
    message_code = {414: 414, 431: 414, 500: 500}.get(code, 400)
    with app.test_request_context("/"):
        message = _messages()[message_code]
        return render_template("errors/error.html", code=code, message=message)


def render_unexpected(error: Exception) -> tuple[str, int]:
    """Log where an unexpected error happened, never its message, and show a plain 500 page.

    Exception messages can quote what a family typed, and logs are written in
    plaintext, so only the exception type and the code locations are logged.
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-6:])
    current_app.logger.error("unexpected %s at %s", type(error).__name__, where)
    return render_error(InternalServerError())


def render_database_error(error: OperationalError) -> tuple[str, int]:
    """Answer a lock wait that ran out with "try again later" (503), anything else as a 500.

    The testimony forms answer it themselves, keeping what was typed (family_forms.py).
    """
    if is_busy(error):
        current_app.logger.warning("database busy: a request was asked to try again")
        return render_error(ServiceUnavailable())
    return render_unexpected(error)


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(RequestEntityTooLarge, render_too_large)
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(OperationalError, render_database_error)
    app.register_error_handler(Exception, render_unexpected)
