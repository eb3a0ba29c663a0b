"""kill -9 during a desk's rotation, through the real `intake` command line (tests.kill_at):
nothing lost, nothing of another desk touched, and running it again finishes it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake import create_app
from intake.crypto import Keyring
from intake.store.models import CaseDesk, Submission
from intake.testimonies import cases
from intake.testimonies.submissions import NewSubmission, store_submission
from intake.testimonies.uploads import UploadBatch
from tests.test_cli import PASSPHRASE, run_intake
from tests.unlock import unlock_user

KILL_POINTS = [
    # Inside c's 2nd batch of shared copies: its statements are in, its COMMIT is not.
    "intake.cli.keys:_Bar.resealed@1,commit@1",
    # Inside c's 2nd batch, sealing the new work-key generation of its first copy.
    "intake.cli.keys:_Bar.resealed@1,intake.desk.rotation:seal_case_key@2",
    # Everything re-sealed, c's old epoch's grants not yet destroyed.
    "intake.desk.rotation:retire_old@1",
]


@pytest.fixture
def coalition_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      database_url: str | None) -> Path:
    """`intake init` and `intake desks add b`, `add c`; 10 cases for (b, c), 3 for main."""
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    assert run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                      stdin=PASSPHRASE + "\n").returncode == 0
    for desk_id in ("b", "c"):
        added = run_intake(tmp_path, "desks", "add", desk_id, "--admin", f"{desk_id}-admin",
                           "--name-en", desk_id, "--name-fa", desk_id, "--description-en", "",
                           "--description-fa", "", "--passphrase-stdin",
                           stdin=PASSPHRASE + "\n")
        assert added.returncode == 0, added.stderr
    for name, value in (("INSTANCE", tmp_path / "instance"), ("KEYS_DIR", tmp_path / "keys"),
                        ("KDF_PROFILE", "insecure-test-only"),
                        ("CODE_KDF_PROFILE", "insecure-test-only")):
        monkeypatch.setenv(f"INTAKE_{name}", str(value))
    app = create_app()
    desk = app.extensions["intake.desk"]
    with Session(app.extensions["intake.db"]) as db:
        for n in range(13):
            chosen = ["b", "c"] if n < 10 else ["main"]
            store_submission(db, desk, NewSubmission(answers={"name": f"person {n}"},
                                                     batch=UploadBatch(desk.store, 0, 0),
                                                     desk_ids=chosen), dt.date.today())
    return tmp_path


def rotate_c(root: Path, point: str | None) -> subprocess.CompletedProcess[str]:
    """`intake keys rotate --desk c` in batches of 4, SIGKILLed at `point` (None: no kill)."""
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = ["--instance", str(root / "instance"), "--keys", str(root / "keys"), "keys",
            "rotate", "--desk", "c", "--admin", "c-admin", "--passphrase-stdin", "--batch",
            "4", "--settle-seconds", "0"]
    command = [sys.executable, "-m", "tests.kill_at", point, "--", *args] if point else \
        [str(Path(sys.executable).parent / "intake"), *args]
    return subprocess.run(command, input=PASSPHRASE + "\n", capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def everything_of(root: Path) -> tuple[dict[str, tuple[int, bytes]], dict[str, list[int]]]:
    """Every non-c sealed byte (to compare), and the epochs of c's copies, per case."""
    app = create_app()
    with Session(app.extensions["intake.db"]) as db:
        others = {s.id: (s.epoch_id, s.sealed_key) for s in db.query(Submission)}
        others |= {f"{r.submission_id}/{r.desk_id}": (r.epoch_id, r.sealed_key)
                   for r in db.query(CaseDesk) if r.desk_id != "c"}
        c_epochs = sorted(r.epoch_id for r in db.query(CaseDesk).filter_by(desk_id="c"))
    return others, {"c": c_epochs}


def c_reads_every_case(root: Path) -> None:
    """c's admin opens each of c's ten cases with what its grants open now."""
    app = create_app()
    keyring = Keyring(root / "keys")
    with Session(app.extensions["intake.db"]) as db:
        from intake.crypto import unlock_epochs

        _, keys, _ = unlock_user(db, keyring, "c-admin", PASSPHRASE)
        epoch_keys = {k: v for k, v in unlock_epochs(keyring, keys.key).items() if k[0] == "c"}
        shared = {r.submission_id for r in db.query(CaseDesk).filter_by(desk_id="c")}
        assert len(shared) == 10
        for case_id in shared:
            case = db.get(Submission, case_id)
            assert cases.answers(case, cases.data_key(case, epoch_keys, db))["name"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_desk_rotation_killed_at_any_point_loses_nothing_and_touches_no_other_desk(
        coalition_on_disk: Path, point: str) -> None:
    root = coalition_on_disk
    before, _ = everything_of(root)
    killed = rotate_c(root, point)
    assert killed.returncode == -9, killed.stderr
    after, _ = everything_of(root)
    assert after == before
    c_reads_every_case(root)
    finished = rotate_c(root, None)
    assert finished.returncode == 0, finished.stderr
    final, c_epochs = everything_of(root)
    assert final == before
    assert c_epochs["c"] == [2] * 10
    assert Keyring(root / "keys").grant_recipients("c", 1) == []
    c_reads_every_case(root)
