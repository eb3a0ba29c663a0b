"""Views for families."""

from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/")
def index() -> str:
    """Show what the organisation does with a testimony and how to stay safe."""
    return render_template("submit/index.html")
