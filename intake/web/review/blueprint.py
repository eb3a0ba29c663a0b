"""The review blueprint object, which every view module of the package registers on."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")
