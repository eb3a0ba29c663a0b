"""The admin blueprint object, which every view module of the package registers on."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
enrol_bp = Blueprint("enrol", __name__, url_prefix="/enrol")
