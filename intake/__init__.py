"""intake: secure testimony intake for families of the executed and disappeared.

The folders are the layers (README, "Layout"): `crypto` and `dates` know nothing
of the rest; `store` keeps things; `testimonies`, `staff` and `desk` are the
domain; `web` and `cli` are the two ways in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intake.web import create_app


def __getattr__(name: str) -> Any:
    """Import the app factory on first use, so `intake.crypto` never loads Flask."""
    if name == "create_app":
        from intake.web import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
