"""A key rotation and a backup, each run while families submit to the real server: everything
acknowledged decrypts after the rotation, and in the restored copy of the backup."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.crypto import Keyring
from tests import live
from tests.proof.families import Family, lost, read_as_reviewer, start_families, stop_families
from tests.test_backup import root_text
from tests.test_cli import run_intake

ROTATE = ["keys", "rotate", "--admin", "admin", "--passphrase-stdin", "--batch", "1",
          "--pause-ms", "20", "--settle-seconds", "1"]


def timed(run: Callable[[], subprocess.CompletedProcess[str]]
          ) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run a command; return when it began and ended, and its result."""
    began = time.monotonic()
    result = run()
    return began, time.monotonic(), result


def acknowledged_between(families: list[Family], began: float, ended: float) -> list[str]:
    """The testimonies acknowledged while a command ran."""
    return [name for family in families for name, at in zip(family.acknowledged,
                                                            family.acknowledged_at, strict=True)
            if began < at < ended]


def test_a_rotation_and_a_backup_while_families_submit_lose_nothing_acknowledged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None,
        empty_database: Callable[[], None], seed: int) -> None:
    """Four families keep submitting while `intake keys rotate` re-seals every record one per
    batch, then while `intake backup` runs: after the rotation every acknowledged testimony
    decrypts for a vetted reviewer (on the new epoch), and the restored backup holds every
    testimony acknowledged before the backup began, each decrypting whole."""
    old = tmp_path / "old"
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    env = live.initialise(old, reviewers=("reviewer",))
    server = live.start(old, env, workers=2)
    families, threads = start_families(server.port, 4, seed)
    backup = tmp_path / "backup.tar"
    try:
        time.sleep(1.0)
        rotation = timed(lambda: run_intake(old, *ROTATE, stdin=live.ADMIN_PASSPHRASE + "\n"))
        time.sleep(0.5)
        taken = timed(lambda: run_intake(old, "backup", str(backup)))
        time.sleep(0.5)
    finally:
        stop_families(families, threads)
        server.stop()
    assert rotation[2].returncode == 0, rotation[2].stderr
    assert taken[2].returncode == 0, taken[2].stderr
    assert [error for family in families for error in family.errors] == []
    assert acknowledged_between(families, rotation[0], rotation[1]), "none during the rotation"
    assert acknowledged_between(families, taken[0], taken[1]), "none during the backup"
    assert lost(families, read_as_reviewer(old, database_url)) == []
    epochs = Keyring(old / "keys").epochs("main")
    assert [(epoch.id, epoch.retired) for epoch in epochs] == [(1, True), (2, False)]

    fresh = tmp_path / "new"
    empty_database()
    restored = run_intake(fresh, "restore", str(backup), "--root", root_text(old))
    assert restored.returncode == 0, restored.stderr
    read = read_as_reviewer(fresh, os.environ.get("INTAKE_DATABASE_URL"))
    assert [name for name in acknowledged_between(families, 0, taken[0])
            if name not in read] == []
    sent = {name: digest for family in families for name, digest in family.sent.items()}
    assert [name for name, digest in read.items() if sent.get(name) != digest] == []
