"""kill -9 of the whole server (master and workers) at random moments while families submit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import live
from tests.proof.families import (
    Family,
    lost,
    read_as_reviewer,
    referenced_blobs,
    seeded,
    start_families,
    stop_families,
    store_files,
)

ROUNDS = 20


def kill_rounds(root: Path, env: dict[str, str], rounds: int, seed: int,
                families_per_round: int = 4) -> tuple[list[Family], list[str], int]:
    """Start the server, let families submit, kill -9 it at a random moment; repeat. After each
    start, note any blob no record refers to (the start must have swept them).

    Returns the families, the orphans found after each start, and how many kills caught an
    upload half-written (a partial blob in the store at that moment)."""
    rng = seeded(seed)
    everyone: list[Family] = []
    orphans: list[str] = []
    in_flight = 0
    for number in range(rounds + 1):
        server = live.start(root, env, workers=2)
        found = store_files(root) - referenced_blobs(root, env.get("INTAKE_DATABASE_URL"))
        orphans += [f"after round {number}: {name}" for name in sorted(found)]
        if number == rounds:
            server.stop()
            break
        families, threads = start_families(server.port, families_per_round,
                                           seed * 100 + number, first=number * 10)
        everyone += families
        time.sleep(rng.uniform(0.3, 1.5))
        in_flight += any(name.endswith(".partial") for name in store_files(root))
        server.kill()
        stop_families(families, threads)
    return everyone, orphans, in_flight


def test_kill_9_twenty_times_during_submissions_loses_nothing_acknowledged_and_leaves_no_orphan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None,
        seed: int) -> None:
    """Twenty rounds: families submit (a fifth with 1 to 5 MB files) and the whole server is
    killed with SIGKILL 0.3 to 1.5 s in; every acknowledged testimony decrypts whole for a
    vetted reviewer, and after each start no blob is left that no record refers to."""
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    env = live.initialise(tmp_path, reviewers=("reviewer",))
    families, orphans, in_flight = kill_rounds(tmp_path, env, ROUNDS, seed)
    acknowledged = sum(len(family.acknowledged) for family in families)
    print(f"{ROUNDS} kills ({in_flight} with an upload half-written), "
          f"{acknowledged} acknowledged")
    assert acknowledged > ROUNDS, "too few testimonies were acknowledged to prove anything"
    assert orphans == []
    assert lost(families, read_as_reviewer(tmp_path, database_url)) == []
