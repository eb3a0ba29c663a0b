"""Concurrent families against gunicorn: no error, and every acknowledged testimony reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import live
from tests.proof.families import lost, percentile, read_as_reviewer, run_families

FAMILIES = 10
SECONDS = 10.0


def test_ten_families_for_ten_seconds_lose_nothing_and_see_no_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None,
        seed: int) -> None:
    """Ten families submit at once for ten seconds through two gunicorn workers, a fifth of
    them with 1 to 5 MB files: every submission is acknowledged, and every acknowledged
    testimony decrypts whole for a vetted reviewer."""
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    env = live.initialise(tmp_path, reviewers=("reviewer",))
    server = live.start(tmp_path, env, workers=2)
    try:
        families = run_families(server.port, FAMILIES, SECONDS, seed)
    finally:
        server.stop()
    latencies = [t for family in families for t in family.latencies]
    print(f"{len(latencies)} acknowledged; p50 {percentile(latencies, 0.5):.3f} s, "
          f"p95 {percentile(latencies, 0.95):.3f} s, p99 {percentile(latencies, 0.99):.3f} s")
    assert [error for family in families for error in family.errors] == []
    assert all(family.acknowledged for family in families), "a family was never served"
    assert lost(families, read_as_reviewer(tmp_path, database_url)) == []
