"""Template helpers for the family pages: counts in the page's digits, linked errors."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, FormField

from intake.web.submit.blueprint import bp

_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@bp.app_template_filter("number")
def number(value: object) -> str:
    """Write a count in the digits of the page's language."""
    text = str(value)
    return text.translate(_FA_DIGITS) if str(get_locale()) == "fa" else text


@bp.app_template_global()
def error_links(form: FlaskForm) -> list[tuple[str, str]]:
    """List each error, named by its question, with the id of the input it belongs to."""
    found = []
    for field in form:
        parts = list(field) if isinstance(field, FormField) else [field]
        for part in parts:
            found += [(part.id, _error_line(field, message)) for message in part.errors]
    return found


def _error_line(field: Field, message: str) -> str:
    """Name the question an error is about (a tick box's message says it already)."""
    if field.type == "BooleanField":
        return str(message)
    return str(_("%(question)s: %(problem)s", question=field.label.text, problem=message))
