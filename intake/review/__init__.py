"""The reviewers' side: unlock, read, triage and answer."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from . import account, export, links, views  # noqa: E402,F401


@bp.app_template_filter("combine_page")
def combine_page(args: dict[str, str], number: int) -> dict[str, str | int]:
    """Keep the inbox filters while moving to another page."""
    return {**args, "page": number}


@bp.context_processor
def statuses() -> dict[str, object]:
    """Offer the status names to review templates."""
    from .forms import STATUSES

    labels = {choice.value: choice.label for choice in STATUSES}
    return {"statuses": STATUSES, "status_label": lambda value: labels.get(value, value)}
