"""The page shown when an instance cannot safely run (for example, not yet initialised)."""

from __future__ import annotations

from flask import Flask, render_template


def init_app(app: Flask, reason: str) -> None:
    """Answer every request with the offline page; `intake serve` says why."""
    app.extensions["intake.offline_reason"] = reason

    @app.before_request
    def show_offline_page() -> tuple[str, int]:
        return render_template("offline.html"), 503
