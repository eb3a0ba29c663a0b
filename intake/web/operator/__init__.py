"""The instance operator's page: the coalition's desks and the instance's health."""

from __future__ import annotations

from intake.web.operator import views  # noqa: F401 (registers its views)
from intake.web.operator.blueprint import bp

__all__ = ["bp"]
