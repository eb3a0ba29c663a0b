"""intake: secure testimony intake for families of the executed and disappeared.

The folders are the layers (README, "Layout"): `crypto` and `dates` know nothing
of the rest; `store` keeps things; `testimonies`, `staff` and `desk` are the
domain; `web` and `cli` are the two ways in, and this module joins them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app with the `intake` commands on it (so `flask --app intake` works too).

    Imports on call, so that `import intake.crypto` never loads Flask.
    """
    from intake.cli import main
    from intake.web import create_app as web_app

    app = web_app(test_config)
    for command in main.commands.values():
        app.cli.add_command(command)
    return app
