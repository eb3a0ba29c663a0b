"""Admins: users, invites, vetting, revocation, epochs; and the public enrolment links."""

from __future__ import annotations

from intake.web.admin import console, enrol, keys, rekey, views  # noqa: F401 (each registers its views)
from intake.web.admin.blueprint import bp, enrol_bp

__all__ = ["bp", "enrol_bp"]
