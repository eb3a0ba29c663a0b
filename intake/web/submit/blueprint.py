"""The submit blueprint object, which every view module of the package registers on."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("submit", __name__)
