"""Key rotation, revocation and recovery through the real `intake` commands, kill -9 included."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake import create_app
from intake.crypto import (
    INSECURE_TEST_ONLY,
    Keyring,
    PrivateKey,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.desk import rotation
from intake.desk.setup import add_granted_user
from intake.desk.trust import Signer, account_fingerprint, server_root
from intake.staff.accounts import create_user
from intake.staff.accounts import revoke as revoke_account
from intake.staff.sessions import Unlocked
from intake.store.models import KeyGeneration, ReviewSession, SearchRow, Submission, User
from intake.testimonies import cases, search
from intake.testimonies.submissions import NewSubmission, store_submission
from intake.testimonies.uploads import UploadBatch
from tests.pg import table_files
from tests.test_cli import PASSPHRASE, run_intake
from tests.unlock import unlock_user

REVIEWER_PASSPHRASE = "reviewer passphrase long"
UNVETTED_PASSPHRASE = "enrolled, never vetted"
PASSPHRASES = {"amina": PASSPHRASE, "babak": REVIEWER_PASSPHRASE}


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         database_url: str | None) -> tuple[Path, str]:
    """An instance with an admin (amina), a vetted reviewer (babak) and 40 submissions."""
    if database_url:
        # Every `intake` command the test runs, and create_app here, use this database.
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    result = run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                        stdin=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("INTAKE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("INTAKE_KDF_PROFILE", "insecure-test-only")
    monkeypatch.setenv("INTAKE_CODE_KDF_PROFILE", "insecure-test-only")
    app = create_app()
    settings, keyring = app.extensions["intake.settings"], Keyring(tmp_path / "keys")
    engine = app.extensions["intake.db"]
    with Session(engine) as db:
        _, keys, signer = unlock_user(db, keyring, "amina", PASSPHRASE)
        admin_key = keys.key
        epoch_key = unlock_epochs(keyring, admin_key)[("main", 1)]
        add_granted_user(db, keyring, settings, epoch_key, name="babak", role="reviewer",
                         root=keys.root, signer=signer,
                         passphrase=REVIEWER_PASSPHRASE, today=dt.date.today())
        db.commit()
    submit(app, 40)
    return tmp_path, result.stdout


def submit(app, count: int) -> None:  # type: ignore[no-untyped-def]
    desk = app.extensions["intake.desk"]
    with Session(app.extensions["intake.db"]) as db:
        for n in range(count):
            store_submission(db, desk, NewSubmission(answers={"name": f"person {n}"},
                                                     batch=UploadBatch(desk.store, 0, 0)),
                             dt.date.today())


def readers(root: Path, passphrases: dict[str, str] | None = None,
            ) -> dict[str, dict[tuple[str, int], PrivateKey]]:
    """Every active user's unlocked epochs, as their login would give them."""
    keyring = Keyring(root / "keys")
    passphrases = passphrases or PASSPHRASES
    with Session(database(root)) as db:
        return {u.name: unlock_epochs(keyring, unlock(keyring.user_key(u.id)[1],
                                                      u.passphrase_verifier,
                                                      passphrases[u.name]))
                for u in db.query(User).filter_by(state="active")}


def fingerprint_start(root: Path, name: str) -> str:
    """The first groups of an account's key fingerprint, as its owner reads them out."""
    with Session(database(root)) as db:
        user_id = db.query(User).filter_by(name=name).one().id
    fingerprint = account_fingerprint(Keyring(root / "keys"), user_id) or ""
    return "-".join(fingerprint.split("-")[:3])


def database(root: Path):  # type: ignore[no-untyped-def]
    return create_engine(os.environ.get("INTAKE_DATABASE_URL")
                         or f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")


def assert_reads_everything(root: Path, name: str,
                            epochs: dict[tuple[str, int], PrivateKey]) -> None:
    """Open every record's data key and every later generation of it, as `name` would."""
    with Session(database(root)) as db:
        for row in db.query(Submission):
            key = epochs.get((row.desk_id, row.epoch_id))
            assert key is not None, f"{name} cannot open epoch {row.epoch_id}"
            open_data_key(row.sealed_key, key, desk_id=row.desk_id, epoch_id=row.epoch_id,
                          record_id=row.id)
            keys = cases.data_key(row, epochs, db)  # checks generations 1..n are all there
            assert keys.newest_generation == row.key_generation


def assert_everyone_reads_everything(root: Path) -> None:
    for name, epochs in readers(root).items():
        assert_reads_everything(root, name, epochs)


def records_on_older_epochs(root: Path) -> int:
    status = run_intake(root, "keys", "status").stdout
    current = int(re.search(r"epoch\s+(\d+)\s+current", status).group(1))  # type: ignore
    return sum(int(n) for epoch, n in re.findall(r"epoch\s+(\d+)\s+\w+ .* records\s+(\d+)",
                                                 status) if int(epoch) < current)


def rotate(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_intake(root, "keys", "rotate", "--admin", "amina", "--passphrase-stdin",
                      "--settle-seconds", "0", *extra, stdin=PASSPHRASE + "\n")


def grant_files(root: Path, epoch: int) -> list[Path]:
    return list((root / "keys" / "desks" / "main" / "epochs" / str(epoch)).rglob("*.grant"))


def test_rotation_reseals_everything_and_destroys_the_old_grants(desk: tuple[Path, str]) -> None:
    root, _ = desk
    assert len(grant_files(root, 1)) == 3  # recovery key, amina, babak
    result = rotate(root, "--batch", "7")
    assert result.returncode == 0, result.stderr
    assert "Retired epochs [1]" in result.stdout
    assert grant_files(root, 1) == []
    assert len(grant_files(root, 2)) == 3
    engine = database(root)
    with Session(engine) as db:
        assert {row.epoch_id for row in db.query(Submission)} == {2}
    assert_everyone_reads_everything(root)
    status = run_intake(root, "keys", "status").stdout
    assert re.search(r"epoch\s+1\s+retired", status)
    assert re.search(r"epoch\s+2\s+current .* records\s+40", status)


def test_new_submissions_are_sealed_to_the_new_epoch(desk: tuple[Path, str]) -> None:
    root, _ = desk
    assert rotate(root).returncode == 0
    submit(create_app(), 1)
    engine = database(root)
    with Session(engine) as db:
        assert {row.epoch_id for row in db.query(Submission)} == {2}


def rotate_until_killed(root: Path, point: str) -> subprocess.CompletedProcess[str]:
    """Run `intake keys rotate` (batches of 7) in a process that SIGKILLs itself at `point`."""
    env = os.environ | {"INTAKE_KDF_PROFILE": "insecure-test-only",
                        "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(
        [sys.executable, "-m", "tests.kill_at", point, "--", "--instance", str(root / "instance"),
         "--keys", str(root / "keys"), "keys", "rotate", "--admin", "amina",
         "--passphrase-stdin", "--batch", "7", "--settle-seconds", "0"],
        input=PASSPHRASE + "\n", capture_output=True, text=True, env=env, timeout=120,
        check=False)


def records_left_behind(root: Path) -> int:
    """Count the records on epochs older than the current one, as `keys status` does."""
    with Session(database(root)) as db:
        states = rotation.status(db, Keyring(root / "keys"), "main")
    current = next(state.epoch.id for state in states if state.current)
    return sum(state.records for state in states if state.epoch.id < current)


def assert_a_rerun_completes(root: Path) -> None:
    """Rotate once more without a kill: it finishes, and every older epoch has no grant."""
    final = rotate(root)
    assert final.returncode == 0, final.stderr
    assert_everyone_reads_everything(root)
    status = run_intake(root, "keys", "status").stdout
    assert "unfinished" not in status
    current = int(re.search(r"epoch\s+(\d+)\s+current", status).group(1))  # type: ignore[union-attr]
    for epoch in range(1, current):
        assert grant_files(root, epoch) == []


# One kill point of each kind a rotation meets, in the order it meets them (40 records,
# batches of 7). Each run resumes what the kill before it left, so what is left is known:
# (records still on an older epoch, grants epoch 1 still has).
KILL_POINTS = [
    # The new epoch is made, granted and certified, and is not yet current.
    ("intake.crypto:Keyring.set_current_epoch@1", (0, 3)),
    # Inside the 2nd batch's transaction: its statements are in, its COMMIT is not.
    ("intake.cli.keys:_Bar.resealed@1,commit@1", (33, 3)),
    # Inside the 2nd batch, sealing its 3rd record's new generation.
    ("intake.cli.keys:_Bar.resealed@1,intake.desk.rotation:seal_case_key@3", (26, 3)),
    # Between batches, two more committed.
    ("intake.cli.keys:_Bar.resealed@2", (12, 3)),
    # Everything re-sealed, the old epoch's grants not yet destroyed.
    ("intake.desk.rotation:retire_old@1", (0, 3)),
    # Retiring: one of the old epoch's three grants destroyed.
    ("intake.crypto:Keyring.delete_grant@2", (0, 2)),
    # Retired, sessions not yet ended, the audit line not yet committed.
    ("intake.staff.sessions:end_all@1", (0, 0)),
]


def test_kill_9_at_each_kind_of_point_never_loses_a_record_and_rerunning_completes(
        desk: tuple[Path, str]) -> None:
    """SIGKILL a rotation before its switch, inside a batch's transaction, between batches,
    before and while retiring, and after: each time everyone still reads every record and
    the next run resumes; a last run completes and leaves no grant of an old epoch."""
    root, _ = desk
    for point, left in KILL_POINTS:
        killed = rotate_until_killed(root, point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        assert_everyone_reads_everything(root)
        assert (records_left_behind(root), len(grant_files(root, 1))) == left, point
    assert_a_rerun_completes(root)


@pytest.mark.slow
@pytest.mark.parametrize("target", [
    "commit",  # every transaction's COMMIT: the switch's audit line and each batch's
    "intake.cli.keys:_Bar.resealed",  # after each batch committed
    "os:replace",  # every keyring file write, between its temporary file and its rename
    "intake.crypto:Keyring.delete_grant",  # every grant destroyed, at revocation or retiring
    "intake.desk.rotation:seal_case_key",  # every record's new generation, inside its batch
])
def test_kill_9_at_every_call_of_a_kind_never_loses_a_record_and_rerunning_completes(
        desk: tuple[Path, str], target: str) -> None:
    """The exhaustive run: kill the n-th run at the n-th call of `target`, n = 1, 2, ...
    (each run resumes what the last left), until a run gets through; every record stays
    readable after each kill, and a last run completes."""
    root, _ = desk
    for n in range(1, 200):
        killed = rotate_until_killed(root, f"{target}@{n}")
        assert killed.returncode in (0, -signal.SIGKILL), killed.stderr
        assert_everyone_reads_everything(root)
        if killed.returncode == 0:
            break
    assert n >= 3, n  # the target was met, and killed, at least twice before a run got through
    assert_a_rerun_completes(root)


def test_revoking_destroys_grants_and_the_next_rotation_leaves_them_out(
        desk: tuple[Path, str]) -> None:
    root, _ = desk
    result = run_intake(root, "users", "revoke", "babak", "--admin", "amina",
                        "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    assert "intake keys rotate" in result.stdout
    assert len(grant_files(root, 1)) == 2
    assert rotate(root).returncode == 0
    assert len(grant_files(root, 2)) == 2
    assert set(readers(root)) == {"amina"}
    assert_everyone_reads_everything(root)


def test_recovery_regrants_the_current_epoch_and_refuses_a_wrong_key(
        desk: tuple[Path, str]) -> None:
    root, printed = desk
    keyring = Keyring(root / "keys")
    engine = database(root)
    with Session(engine) as db:
        amina = db.query(User).filter_by(name="amina").one()
        keyring.delete_grant("main", 1, bytes.fromhex(amina.key_fingerprint))
    assert ("main", 1) not in readers(root)["amina"]
    wrong = run_intake(root, "recover", "--admin", "amina",
                       stdin="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-KKKK-LLLL-MMMM-NNNN\n")
    assert wrong.returncode != 0
    assert "nothing was changed" in wrong.stderr
    text = re.search(r"([A-Z2-7]{4}(?:-[A-Z2-7]{4}){13})", printed).group(1)  # type: ignore
    right = run_intake(root, "recover", "--admin", "amina",
                       stdin=f"{text}\n{fingerprint_start(root, 'amina')}\n")
    assert right.returncode == 0, right.stderr
    assert ("main", 1) in readers(root)["amina"]


def test_a_wrong_passphrase_changes_nothing(desk: tuple[Path, str]) -> None:
    root, _ = desk
    before = sorted(p.name for p in (root / "keys").rglob("*"))
    result = run_intake(root, "keys", "rotate", "--admin", "amina", "--passphrase-stdin",
                        stdin="not the passphrase\n")
    assert result.returncode != 0
    assert "not right" in result.stderr
    assert sorted(p.name for p in (root / "keys").rglob("*")) == before


def add_unvetted(root: Path, name: str) -> None:
    """Make an account the way enrolment does: active, with a key pair and no grant."""
    with Session(database(root)) as db:
        create_user(db, Keyring(root / "keys"), name=name, role="reviewer",
                    passphrase=UNVETTED_PASSPHRASE, profile=INSECURE_TEST_ONLY,
                    today=dt.date.today(), root=server_root(Keyring(root / "keys"), "main", None))
        db.commit()


def unlocked_admin(db: Session, keyring: Keyring) -> tuple[User, PrivateKey, Signer | None]:
    admin, keys, signer = unlock_user(db, keyring, "amina", PASSPHRASE)
    return admin, keys.key, signer


class Interrupted(Exception):
    pass


def die_before_the_switch(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start a rotation in this process and stop it just before the new epoch becomes current."""
    def switch(*_args: object, **_kwargs: object) -> None:
        raise Interrupted

    keyring = Keyring(root / "keys")
    with monkeypatch.context() as patch, Session(database(root)) as db:
        patch.setattr(Keyring, "set_current_epoch", switch)
        _, key, signer = unlocked_admin(db, keyring)
        with pytest.raises(Interrupted):
            rotation.begin(db, keyring, "main", key, 0, signer)


@pytest.mark.parametrize("resumed", [False, True])
def test_a_rotation_grants_the_new_epoch_only_to_vetted_accounts(
        desk: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, resumed: bool) -> None:
    root, _ = desk
    add_unvetted(root, "cyrus")
    if resumed:
        die_before_the_switch(root, monkeypatch)
    result = rotate(root)
    assert result.returncode == 0, result.stderr
    assert ("Resuming" in result.stdout) is resumed
    readable = readers(root, PASSPHRASES | {"cyrus": UNVETTED_PASSPHRASE})
    assert readable["cyrus"] == {}
    assert_reads_everything(root, "babak", readable["babak"])
    assert_reads_everything(root, "amina", readable["amina"])


def interrupt_after_two_batches(root: Path) -> None:
    """Switch to a new epoch and re-seal two batches of seven, then stop, as a crash would."""
    keyring = Keyring(root / "keys")
    with Session(database(root)) as db:
        _, key, signer = unlocked_admin(db, keyring)
        target = rotation.begin(db, keyring, "main", key, int(time.time()), signer)[0]
        batches = rotation.reseal(db, keyring, target, key, 7)
        assert [next(batches), next(batches)] == [7, 7]
        batches.close()


def test_recovery_rescues_a_desk_whose_rotation_was_interrupted(desk: tuple[Path, str]) -> None:
    root, printed = desk
    interrupt_after_two_batches(root)
    assert records_on_older_epochs(root) == 26
    keyring = Keyring(root / "keys")
    with Session(database(root)) as db:
        amina = bytes.fromhex(db.query(User).filter_by(name="amina").one().key_fingerprint)
    for epoch in (1, 2):
        assert keyring.delete_grant("main", epoch, amina)
    text = re.search(r"([A-Z2-7]{4}(?:-[A-Z2-7]{4}){13})", printed).group(1)  # type: ignore
    recovered = run_intake(root, "recover", "--admin", "amina",
                           stdin=f"{text}\n{fingerprint_start(root, 'amina')}\n")
    assert recovered.returncode == 0, recovered.stderr
    assert {("main", 1), ("main", 2)} <= set(readers(root)["amina"])
    result = rotate(root)
    assert result.returncode == 0, result.stderr
    assert records_on_older_epochs(root) == 0
    assert "unfinished" not in run_intake(root, "keys", "status").stdout
    assert_everyone_reads_everything(root)


def test_an_account_revoked_while_a_rotation_grants_it_keeps_no_grant(
        desk: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = desk
    keyring, engine = Keyring(root / "keys"), database(root)
    with Session(engine) as db:
        babak = bytes.fromhex(db.query(User).filter_by(name="babak").one().key_fingerprint)
    put_grant = Keyring.put_grant

    def revoke_first(self: Keyring, desk_id: str, epoch_id: int, recipient, grant):  # type: ignore[no-untyped-def]
        # The revocation lands after the rotation read babak as active, before his grant.
        if recipient.fingerprint == babak and epoch_id == 2:
            with Session(engine) as other:
                revoke_account(other, keyring, other.query(User).filter_by(name="babak").one())
                other.commit()
        put_grant(self, desk_id, epoch_id, recipient, grant)

    monkeypatch.setattr(Keyring, "put_grant", revoke_first)
    with Session(engine) as db:
        admin, key, signer = unlocked_admin(db, keyring)
        rotation.run(db, keyring, root / "instance", "main", admin, key, rotation.Progress(),
                     settle_seconds=0, signer=signer)
    assert keyring.grant("main", 2, babak) is None
    assert set(readers(root)) == {"amina"}
    assert_everyone_reads_everything(root)


def test_revoking_during_a_rotation_says_to_rotate_again_after_it(
        desk: tuple[Path, str]) -> None:
    root, _ = desk
    with rotation.exclusive(root / "instance", "main"):
        result = run_intake(root, "users", "revoke", "babak", "--admin", "amina",
                            "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    assert "When it has finished, rotate once more" in result.stdout
    assert len(grant_files(root, 1)) == 2  # the recovery key and amina


def generations_per_record(root: Path) -> dict[str, int]:
    """How many later key generations each record has, counted from their rows."""
    with Session(database(root)) as db:
        counts = {row.id: 0 for row in db.query(Submission)}
        for generation in db.query(KeyGeneration):
            counts[generation.submission_id] += 1
        return counts


def test_a_crash_inside_a_batch_leaves_every_record_readable_and_resuming_adds_one_generation(
        desk: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotate in batches of 7 and die while sealing the 3rd record's new generation of the 2nd
    batch: the 7 records of the first batch have generation 1, none of the 2nd batch does,
    everyone reads everything; run again, and every record has exactly one generation."""
    root, _ = desk
    keyring, sealed = Keyring(root / "keys"), []
    real_seal = rotation.seal_case_key

    def dies_on_the_tenth(*args, **kwargs):  # type: ignore[no-untyped-def]
        sealed.append(1)
        if len(sealed) == 10:
            raise Interrupted
        return real_seal(*args, **kwargs)

    # Only this patch is undone: the fixture's environment (the database) stays.
    with monkeypatch.context() as patch, Session(database(root)) as db:
        patch.setattr(rotation, "seal_case_key", dies_on_the_tenth)
        admin, key, signer = unlocked_admin(db, keyring)
        with pytest.raises(Interrupted):
            rotation.run(db, keyring, root / "instance", "main", admin, key,
                         rotation.Progress(), batch=7, settle_seconds=0, signer=signer)
    assert sorted(generations_per_record(root).values()) == [0] * 33 + [1] * 7
    assert records_on_older_epochs(root) == 33
    assert_everyone_reads_everything(root)
    result = rotate(root)
    assert result.returncode == 0, result.stderr
    assert "Resuming" in result.stdout
    assert set(generations_per_record(root).values()) == {1}
    assert_everyone_reads_everything(root)


def old_secrets(root: Path) -> dict[str, bytes]:
    """Every sealed data key, sealed generation and grant file as they are now."""
    found: dict[str, bytes] = {}
    with Session(database(root)) as db:
        for row in db.query(Submission):
            found[f"sealed key of {row.id}"] = row.sealed_key
        for generation in db.query(KeyGeneration):
            found[f"generation {generation.generation} of {generation.submission_id}"] = (
                generation.sealed_key)
    for path in (root / "keys").rglob("*.grant"):
        found[f"grant {path.relative_to(root)}"] = path.read_bytes()
    return found


def residues(root: Path, secrets: dict[str, bytes]) -> list[str]:
    """Name every old secret any 32-byte piece of which is in the database files or keys/."""
    files = [root / "instance" / f"intake.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
    files += [path for path in (root / "keys").rglob("*") if path.is_file()]
    contents = {path.name: path.read_bytes() for path in files if path.exists()}
    url = os.environ.get("INTAKE_DATABASE_URL")
    if url:
        # PostgreSQL's table and index files; its WAL is a stated limit (SECURITY.md).
        contents["postgresql tables"] = table_files(url)
    return sorted({f"{name} in {path}" for name, secret in secrets.items()
                   for path, data in contents.items()
                   for start in range(0, len(secret) - 31, 32)
                   if secret[start:start + 32] in data})


def test_after_a_rotation_no_old_sealed_key_or_grant_is_left_in_the_database_wal_or_keyring(
        desk: tuple[Path, str]) -> None:
    """Rotate once (so records have a generation), note every sealed key, sealed generation
    and grant, rotate again: no 32-byte piece of any of them is left in the database file,
    its -wal or -shm, or any file under keys/, and no temporary file is left."""
    root, _ = desk
    assert rotate(root).returncode == 0
    before = old_secrets(root)
    assert len(before) == 40 + 40 + 3
    # A write killed between its temporary file and the rename leaves a grant behind.
    [grant, *_] = grant_files(root, 2)
    crashed = grant.parent / f".{grant.name}.0123456789abcdef.tmp"
    crashed.write_bytes(grant.read_bytes())
    os.utime(crashed, (time.time() - 600, time.time() - 600))
    assert rotate(root).returncode == 0
    assert residues(root, before) == []
    assert [p.name for p in (root / "keys").rglob("*.tmp")] == []
    assert [p.name for p in (root / "instance").iterdir()
            if p.name.startswith(("etilqs", "intake.sqlite3-journal"))] == []
    assert_everyone_reads_everything(root)


def index_rows_by_epoch(root: Path) -> dict[str, int]:
    """Each case's search index row: case id -> the epoch whose index key it is under."""
    with Session(database(root)) as db:
        return {row.submission_id: row.epoch_id for row in db.query(SearchRow)}


def searched_texts(root: Path, name: str, epochs: dict[tuple[str, int], PrivateKey],
                   ) -> dict[str, str]:
    """Every case's search text as `name`'s session would read it from the index."""
    with Session(database(root)) as db:
        user = db.query(User).filter_by(name=name).one()
        record = ReviewSession(id_hash=f"test-{name}", user_id=user.id, sealed_keys=b"",
                               started_at=0, seen_at=0)
        ids = [case_id for (case_id,) in db.query(Submission.id)]
        return dict(search.texts(db, Unlocked(record, user, epochs), ids))


def test_kill_9_while_re_encrypting_the_search_index_leaves_every_case_searchable_and_resumes(
        desk: tuple[Path, str]) -> None:
    """Index all 40 cases, then SIGKILL a rotation inside the 2nd batch of index rows (before
    its COMMIT) and, resumed, after its 2nd committed batch: the rows are part on the old
    epoch's index key, part on the new one's, everyone's search reads every case from them
    (and writes none); a last run puts every row on the new epoch's key."""
    root, _ = desk
    assert len(searched_texts(root, "amina", readers(root)["amina"])) == 40
    assert set(index_rows_by_epoch(root).values()) == {1}
    for point, moved in (("intake.desk.rotation:Progress.reindexed@1,commit@1", 7),
                         ("intake.desk.rotation:Progress.reindexed@2", 21)):
        killed = rotate_until_killed(root, point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        rows = index_rows_by_epoch(root)
        assert sorted(rows.values()) == [1] * (40 - moved) + [2] * moved, point
        for name, epochs in readers(root).items():
            found = searched_texts(root, name, epochs)
            # What was typed, before the name keys (search.NAME_MARK) the index adds after it.
            typed = sorted(text.split(" \x1f")[0] for text in found.values())
            assert typed == sorted(f"person {n}" for n in range(40)), name
        assert index_rows_by_epoch(root) == rows
    assert_a_rerun_completes(root)
    assert set(index_rows_by_epoch(root).values()) == {2}
    assert len(searched_texts(root, "babak", readers(root)["babak"])) == 40


def test_after_a_rotation_no_old_index_row_is_left_in_the_database_or_its_wal(
        desk: tuple[Path, str]) -> None:
    """Index all 40 cases, note every row, rotate: no 32-byte piece of any old row is left in
    the database file, its -wal or -shm (or PostgreSQL's table files)."""
    root, _ = desk
    searched_texts(root, "amina", readers(root)["amina"])
    with Session(database(root)) as db:
        before = {f"index row of {row.submission_id}": row.sealed_text
                  for row in db.query(SearchRow)}
    assert len(before) == 40
    assert rotate(root).returncode == 0
    assert residues(root, before) == []
    assert set(index_rows_by_epoch(root).values()) == {2}
