"""The proof suite: the real server (gunicorn) under load, kill -9, malformed input, rotation
and backup. Random inputs come from a seed printed by each test (INTAKE_PROOF_SEED sets it)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def seed() -> int:
    """The seed of this run's random inputs, printed so that a failure can be replayed."""
    value = int(os.environ.get("INTAKE_PROOF_SEED", "1988"))
    print(f"INTAKE_PROOF_SEED={value}")
    return value
