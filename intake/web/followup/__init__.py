"""The family's return visit: enter the follow-up code, read replies, add more."""

from __future__ import annotations

from intake.web.followup import views  # noqa: F401 (each registers its views)
from intake.web.followup.blueprint import bp

__all__ = ["bp"]
