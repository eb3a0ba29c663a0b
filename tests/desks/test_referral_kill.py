"""kill -9 during a referral (tests.kill_at): a process that dies with the referral's
statements in the database and its COMMIT not yet sent leaves nothing half-shared, loses
nothing of the referring desk's work, and the referral then goes through whole."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake import create_app
from intake.crypto import Keyring, unlock_epochs
from intake.desk import audit, referral
from intake.store.models import CaseDesk, Note, Submission
from intake.testimonies import cases
from intake.testimonies.submissions import NewSubmission, store_submission
from intake.testimonies.uploads import UploadBatch
from tests.desks.test_desk_kill import coalition_on_disk  # noqa: F401 (a fixture)
from tests.test_cli import PASSPHRASE
from tests.unlock import unlock_user

NOTE = "main's note, kept through the kill"


def refer_to_c() -> None:
    """As main's admin, refer the newest case to desk c (run in the child that is killed)."""
    app = create_app()
    desk, settings = app.extensions["intake.desk"], app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        user, keys, _ = unlock_user(db, desk.keyring, "amina", PASSPHRASE)
        epoch_keys = unlock_epochs(desk.keyring, keys.key)
        case = db.get(Submission, os.environ["REFERRED_CASE"])
        referral.refer(db, desk, settings, case, cases.data_key(case, epoch_keys, db),
                       epoch_keys, user, "main", "c")


def main_case_with_a_note(root: Path) -> str:
    """Store a case for main whose family allowed sharing, and a note by main's admin."""
    app = create_app()
    desk = app.extensions["intake.desk"]
    with Session(app.extensions["intake.db"]) as db:
        stored = store_submission(db, desk, NewSubmission(
            answers={"name": "person referred", referral.CONSENT: True},
            batch=UploadBatch(desk.store, 0, 0), desk_ids=["main"]), dt.date.today())
        case = db.get(Submission, stored.id)
        user, keys, _ = unlock_user(db, desk.keyring, "amina", PASSPHRASE)
        case_keys = cases.data_key(case, unlock_epochs(desk.keyring, keys.key), db)
        cases.add_note(db, case, case_keys, user.id, NOTE)
        db.commit()
        return case.id


@pytest.mark.parametrize("point", [
    # Between the audit entries, c's sealed copy already added to the transaction.
    "intake.desk.audit:record@2",
    # Every statement in the database, the COMMIT not yet sent.
    "commit@1",
])
def test_a_referral_killed_before_its_commit_shares_nothing_and_runs_again_whole(
        coalition_on_disk: Path, point: str) -> None:  # noqa: F811 (the imported fixture)
    root = coalition_on_disk
    case_id = main_case_with_a_note(root)
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                        "REFERRED_CASE": case_id}
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from tests.kill_at import arm; arm(sys.argv[1]); "
         "from tests.desks.test_referral_kill import refer_to_c; refer_to_c()", point],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    app = create_app()
    desk = app.extensions["intake.desk"]
    keyring = Keyring(root / "keys")
    with Session(app.extensions["intake.db"]) as db:
        assert db.query(CaseDesk).filter_by(submission_id=case_id).count() == 0
        case = db.get(Submission, case_id)
        assert case.key_generation == 0
        _, keys, _ = unlock_user(db, keyring, "amina", PASSPHRASE)
        case_keys = cases.data_key(case, unlock_epochs(keyring, keys.key), db)
        [note] = db.query(Note).filter_by(submission_id=case_id)
        assert cases.note_text(case, case_keys, note) == NOTE
        audit.verify(db)  # raises if an entry or the head was left half written
    # Run again without a kill: the referral goes through, and c's admin opens the case.
    again = subprocess.run(
        [sys.executable, "-c", "from tests.desks.test_referral_kill import refer_to_c; "
         "refer_to_c()"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    with Session(app.extensions["intake.db"]) as db:
        assert [row.desk_id for row in db.query(CaseDesk).filter_by(submission_id=case_id)] \
            == ["c"]
        case = db.get(Submission, case_id)
        _, c_keys, _ = unlock_user(db, keyring, "c-admin", PASSPHRASE)
        opened = cases.data_key(case, unlock_epochs(desk.keyring, c_keys.key), db)
        assert cases.answers(case, opened)["name"] == "person referred"
