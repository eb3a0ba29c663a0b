"""The page shown when an instance cannot safely run (for example, not yet initialised)."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request

from intake.web.bound import bind_offline_reason, get_desk


def init_app(app: Flask, reason: str) -> None:
    """Answer every request with the offline page; `intake serve` says why."""
    bind_offline_reason(app, reason)

    @app.before_request
    def show_offline_page() -> tuple[str, int]:
        return render_template("offline.html"), 503


# The family side: nothing there may be sealed to a key the keyring's root has not certified.
FAMILY_BLUEPRINTS = frozenset({"submit", "followup"})


def guard_family_side(app: Flask) -> None:
    """Show the offline page on the family side while the keyring does not chain to its root.

    Checked before a family starts typing (so no answer is lost to the check)
    and again just before anything is sealed (submissions.py); the reason goes
    to the server log only: a family is told nothing about the keyring.
    """
    from intake.desk import trust
    from intake.web.database import get_session

    @app.before_request
    def check_keyring() -> tuple[str, int] | None:
        if request.blueprint not in FAMILY_BLUEPRINTS:
            return None
        desk = get_desk()
        trust.sealing_epoch(desk.keyring, desk.desk_id, desk.root, get_session(), desk.water)
        return None

    @app.errorhandler(trust.TrustError)
    def keyring_untrusted(error: trust.TrustError) -> tuple[str, int]:
        logging.getLogger("intake").error("ALARM: family side offline: %s", error)
        return render_template("offline.html"), 503
