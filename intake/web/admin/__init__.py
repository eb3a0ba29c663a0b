"""Admins: users, invites, vetting, revocation, epochs; and the public enrolment links."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
enrol_bp = Blueprint("enrol", __name__, url_prefix="/enrol")

from intake.web.admin import enrol, keys, rekey, views  # noqa: E402,F401
