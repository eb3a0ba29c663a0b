"""The family's return visit: enter the follow-up code, read replies, add more."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/followup")

from intake.web.followup import views  # noqa: E402,F401
