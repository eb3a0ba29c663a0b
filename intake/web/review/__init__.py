"""The reviewers' side: unlock, read, triage and answer."""

from __future__ import annotations

import time

from flask import current_app

from intake.staff import sessions
from intake.store import throttle
from intake.web.database import get_session, unless_busy
from intake.web.review import (  # noqa: F401 (each registers its views)
    account,
    export,
    links,
    record,
    referral,
    views,
    workbench,
)
from intake.web.review.blueprint import bp

__all__ = ["bp"]

SWEEP_SECONDS = 60



@bp.before_app_request
def sweep_now_and_then() -> None:
    """Delete expired sessions and attempt counters, at most once a minute in each worker."""
    # On any request, a family's included: expired rows go even when no reviewer comes back.
    now = int(time.time())
    if now - current_app.extensions.get("intake.swept_at", 0) < SWEEP_SECONDS:
        return
    current_app.extensions["intake.swept_at"] = now
    db = get_session()
    # Housekeeping: on a database too busy for it, the request goes on (a family's
    # testimony must not wait behind it) and the next sweep does it.
    with unless_busy():
        sessions.sweep(db, now)
        throttle.purge_expired(db, now)
        db.commit()


@bp.app_template_filter("combine_page")
def combine_page(args: dict[str, str], number: int) -> dict[str, str | int]:
    """Keep the inbox filters while moving to another page."""
    return {**args, "page": number}


@bp.context_processor
def statuses() -> dict[str, object]:
    """Offer the status names to review templates."""
    from intake.web.review.forms import STATUSES

    labels = {choice.value: choice.label for choice in STATUSES}
    return {"statuses": STATUSES, "status_label": lambda value: labels.get(value, value)}
