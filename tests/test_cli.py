"""`intake init` through the real console script, and what it leaves on disk."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from intake.crypto import (
    Keyring,
    PrivateKey,
    parse_recovery_secret,
    recovery_key,
    unlock,
    unlock_epochs,
)
from intake.store.models import User

INTAKE = str(Path(sys.executable).parent / "intake")
PASSPHRASE = "a long enough passphrase"


def run_intake(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the `intake` console script against a temporary instance and keyring."""
    env = os.environ | {"INTAKE_KDF_PROFILE": "insecure-test-only"}
    return subprocess.run(
        [INTAKE, "--instance", str(root / "instance"), "--keys", str(root / "keys"), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.fixture
def initialised(tmp_path: Path) -> tuple[Path, str]:
    """An instance made by `intake init`, and what it printed."""
    result = run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                        stdin=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    return tmp_path, result.stdout


def secrets_on_disk_candidates(root: Path, printed: str) -> dict[str, bytes]:
    """Obtain every private key through the API, as the test's ground truth."""
    engine = create_engine(f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")
    with Session(engine) as session:
        admin = session.scalars(select(User).where(User.name == "amina")).one()
    keyring = Keyring(root / "keys")
    _public, wrapped = keyring.user_key(admin.id)
    admin_key = unlock(wrapped, admin.passphrase_verifier, PASSPHRASE)
    epochs = unlock_epochs(keyring, admin_key)
    recovery_text = re.search(r"([A-Z2-7]{4}(?:-[A-Z2-7]{4}){13})", printed)
    assert recovery_text, printed
    recovery_secret = parse_recovery_secret(recovery_text.group(1))
    keys: dict[str, bytes] = {"admin key": admin_key.to_bytes(),
                              "recovery secret": recovery_secret,
                              "recovery key": recovery_key(recovery_secret).to_bytes()}
    for (desk, epoch), key in epochs.items():
        keys[f"epoch {desk}/{epoch}"] = key.to_bytes()
    return keys


def encodings(secret: bytes) -> list[bytes]:
    """The forms a leaked key could take in a file."""
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode(),
             base64.b64encode(secret), base64.urlsafe_b64encode(secret).rstrip(b"="),
             base64.b32encode(secret).rstrip(b"=")]
    if len(secret) == 96:  # the ML-KEM seed and the X25519 scalar on their own
        forms += [secret[:64], secret[64:], secret[:64].hex().encode(), secret[64:].hex().encode()]
    return forms


def files_holding(root: Path, keys: dict[str, bytes]) -> list[str]:
    """List (file, key name) pairs where a key appears in any encoding."""
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(root)}: {name}" for name, secret in keys.items()
                     if any(form in data for form in encodings(secret))]
    return hits


def test_init_prints_totp_uri_and_recovery_key(initialised: tuple[Path, str]) -> None:
    root, printed = initialised
    assert re.search(r"otpauth://totp/[^ ]*amina\?[^ ]*secret=[A-Z2-7]+", printed)
    assert "RECOVERY KEY" in printed
    assert (root / "instance" / "config.py").is_file()
    assert (root / "instance" / "intake.sqlite3").is_file()


def test_init_grants_the_epoch_to_the_admin_and_the_recovery_key(
        initialised: tuple[Path, str]) -> None:
    root, printed = initialised
    keys = secrets_on_disk_candidates(root, printed)
    assert "epoch main/1" in keys
    recovery = PrivateKey(keys["recovery key"])
    assert set(unlock_epochs(Keyring(root / "keys"), recovery)) == {("main", 1)}


def test_no_private_key_is_on_disk_after_init(initialised: tuple[Path, str]) -> None:
    root, printed = initialised
    keys = secrets_on_disk_candidates(root, printed)
    assert files_holding(root / "instance", keys) == []
    assert files_holding(root / "keys", keys) == []


def test_the_disk_search_finds_a_planted_key(initialised: tuple[Path, str]) -> None:
    root, printed = initialised
    keys = secrets_on_disk_candidates(root, printed)
    (root / "keys" / "leak.bin").write_bytes(b"x" + keys["epoch main/1"][64:].hex().encode())
    assert files_holding(root / "keys", keys) == ["leak.bin: epoch main/1"]


def test_init_refuses_an_initialised_instance(initialised: tuple[Path, str]) -> None:
    root, _ = initialised
    before = sorted(p.name for p in (root / "keys").rglob("*"))
    result = run_intake(root, "init", "--admin", "other", "--passphrase-stdin",
                        stdin=PASSPHRASE + "\n")
    assert result.returncode != 0
    assert "already initialised" in result.stderr
    assert sorted(p.name for p in (root / "keys").rglob("*")) == before


@pytest.mark.parametrize(("passphrase", "message"), [
    ("short", "at least 12 characters"),
    ("aaaaaaaaaaaaaaaa", "more different characters"),
    ("x" * 1025, "at most 1024 characters"),
])
def test_init_refuses_a_weak_passphrase_and_writes_nothing(tmp_path: Path, passphrase: str,
                                                           message: str) -> None:
    result = run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                        stdin=passphrase + "\n")
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "instance" / "config.py").exists()
    assert not (tmp_path / "keys").exists()


def test_init_never_takes_the_passphrase_from_argv(tmp_path: Path) -> None:
    result = run_intake(tmp_path, "init", "--admin", "amina", "--passphrase", PASSPHRASE)
    assert result.returncode != 0
    assert "No such option" in result.stderr


def test_the_cli_is_also_reachable_through_flask(tmp_path: Path) -> None:
    env = os.environ | {"INTAKE_INSTANCE": str(tmp_path / "instance"),
                        "INTAKE_KEYS_DIR": str(tmp_path / "keys")}
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "intake",
                             "--help"], capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    assert result.returncode == 0
    for command in ("init", "serve", "demo"):
        assert command in result.stdout


def test_audit_verify_names_the_first_broken_entry(initialised: tuple[Path, str]) -> None:
    import sqlite3

    root, _ = initialised
    from intake.desk import audit as audit_log
    from intake.store.models import AuditEvent  # noqa: F401

    engine = create_engine(f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")
    with Session(engine) as session:
        for action in ("unlock", "view", "export"):
            audit_log.record(session, "u" * 32, action, "c" * 32)
            session.commit()
    intact = run_intake(root, "audit", "verify")
    assert intact.returncode == 0
    assert "intact (3 entries)" in intact.stdout
    database = sqlite3.connect(root / "instance" / "intake.sqlite3")
    database.execute("update audit_events set action = 'nothing' where seq = 2")
    database.commit()
    database.close()
    broken = run_intake(root, "audit", "verify")
    assert broken.returncode != 0
    assert "broken at entry 2" in broken.stderr


def test_demo_codes_are_refused_on_a_real_instance(initialised: tuple[Path, str]) -> None:
    root, _ = initialised
    result = run_intake(root, "demo-code", "amina")
    assert result.returncode != 0
    assert "only works on an instance made by `intake demo`" in result.stderr
