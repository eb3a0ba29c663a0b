"""Error pages in the visitor's language, carrying the same headers as any page."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError


def _messages() -> dict[int, str]:
    return {
        400: _("The form could not be read. Nothing was saved; please go back and try again."),
        403: _("You are not allowed to open this page."),
        404: _("This page does not exist."),
        405: _("This page cannot be used that way."),
        413: _("What you sent is larger than this service accepts. Nothing was saved."),
        429: _("Too many attempts. Please wait a while and try again."),
        500: _("Something went wrong on our side. Nothing you sent was stored in readable form."),
        503: _("This service is not available right now. Please try again later."),
    }


def render_error(error: HTTPException) -> tuple[str, int]:
    """Render an HTTP error with a message a family can act on."""
    code = error.code or 500
    message = _messages().get(code) or _messages()[500]
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(Exception, lambda _exc: render_error(InternalServerError()))
