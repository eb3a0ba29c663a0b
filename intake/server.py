"""The production server: gunicorn with threaded workers, no access log."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from . import create_app

        return create_app()


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app; request bodies stream to the app instead of being spooled."""
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # No access log: it would record who submitted, when, from where.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "control_socket_disable": True,
        "timeout": 120,
        "graceful_timeout": 20,
    }).run()
