"""The family side: landing page, testimony form, receipt."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("submit", __name__)

from intake.web.submit import templating, views  # noqa: E402,F401
