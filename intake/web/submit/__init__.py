"""The family side: landing page, testimony form, receipt."""

from __future__ import annotations

from intake.web.submit import templating, views  # noqa: F401 (each registers its views)
from intake.web.submit.blueprint import bp

__all__ = ["bp"]
