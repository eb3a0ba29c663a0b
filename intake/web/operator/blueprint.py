"""The operator blueprint object: its own area, apart from any desk's admin pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/admin/instance")
