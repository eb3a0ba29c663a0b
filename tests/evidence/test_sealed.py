"""Sealed hand-over: `intake keys recipient`, `intake export --to`, `intake open`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from intake.cli import main
from intake.crypto import RFC_9106_LOW_MEMORY
from intake.evidence.seal import (
    SealError,
    open_sealed,
    read_public,
    recipient_files,
    seal,
    unlock_recipient,
)
from tests.conftest import REVIEWER_PASSPHRASE
from tests.review.test_cases import case_ids, submit
from tests.submit.conftest import marker_file

PASSPHRASE = "a lawyer's long passphrase"


@pytest.fixture(scope="module")
def recipient() -> tuple[bytes, bytes]:
    """One recipient key pair (private file, public file), made once: Argon2id is slow."""
    return recipient_files(PASSPHRASE, RFC_9106_LOW_MEMORY)


def sealed_bytes(public: bytes, content: bytes) -> bytes:
    out = io.BytesIO()
    seal([content[:70_000], content[70_000:]], read_public(public), out)
    return out.getvalue()


def test_a_sealed_stream_opens_only_whole_with_the_recipients_key(
        recipient: tuple[bytes, bytes]) -> None:
    secret, public = recipient
    content = marker_file(200_000)
    data = sealed_bytes(public, content)
    assert b"MARKER" not in data
    assert content[:64] not in data
    key = unlock_recipient(secret, PASSPHRASE)
    assert b"".join(open_sealed(io.BytesIO(data), key)) == content
    with pytest.raises(SealError, match="damaged or cut short"):
        next(open_sealed(io.BytesIO(data[:-20_000]), key))
    flipped = bytearray(data)
    flipped[-5] ^= 1
    with pytest.raises(SealError, match="damaged or cut short"):
        next(open_sealed(io.BytesIO(bytes(flipped)), key))
    other = unlock_recipient(*_other_secret())
    with pytest.raises(SealError, match="not sealed to this key"):
        next(open_sealed(io.BytesIO(data), other))


def _other_secret() -> tuple[bytes, str]:
    return recipient_files("another long passphrase", RFC_9106_LOW_MEMORY)[0], \
        "another long passphrase"


def test_a_wrong_passphrase_or_a_changed_public_key_is_refused(
        recipient: tuple[bytes, bytes]) -> None:
    secret, public = recipient
    with pytest.raises(SealError, match="the passphrase is not right"):
        unlock_recipient(secret, "not the passphrase at all")
    lines = public.split(b"\n")
    other_public = recipient_files("yet another passphrase", RFC_9106_LOW_MEMORY)[1]
    swapped = b"\n".join([lines[0], lines[1], other_public.split(b"\n")[2], b""])
    with pytest.raises(SealError, match="does not match its fingerprint line"):
        read_public(swapped)


def test_export_to_a_recipient_writes_only_ciphertext_and_open_verifies_it(
        app: Flask, tmp_path: Path, recipient: tuple[bytes, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lawyer makes a key, the reviewer seals a case to it on the server, the lawyer
    opens it on a machine with no instance and the bundle verifies against the desk's root."""
    secret, public = recipient
    (tmp_path / "lawyer").write_bytes(secret)
    (tmp_path / "lawyer.pub").write_bytes(public)
    submit(app.test_client())
    [case_id] = case_ids(app)
    sealed = tmp_path / "case.sealed"
    result = app.test_cli_runner().invoke(args=[
        "export", case_id[:8], "--reviewer", "reviewer", "--to", str(tmp_path / "lawyer.pub"),
        "--out", str(sealed), "--passphrase-stdin"], input=REVIEWER_PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    data = sealed.read_bytes()
    assert b"MARKER" not in data
    assert "علی".encode() not in data
    assert b"bag-info" not in data
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "no-instance"))
    root = app.extensions["intake.settings"].root
    from intake.crypto.signing import format_fingerprint
    opened = CliRunner().invoke(main, [
        "open", str(sealed), "--key", str(tmp_path / "lawyer"), "--root",
        format_fingerprint(root), "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert opened.exit_code == 0, opened.output
    assert opened.output.endswith("VERIFIED: every check above holds.\n")
    assert (tmp_path / "case.zip").exists()


def test_open_refuses_a_truncated_sealed_bundle_and_writes_nothing(
        tmp_path: Path, recipient: tuple[bytes, bytes]) -> None:
    secret, public = recipient
    (tmp_path / "lawyer").write_bytes(secret)
    (tmp_path / "case.sealed").write_bytes(sealed_bytes(public, marker_file(150_000))[:-70_000])
    result = CliRunner().invoke(main, ["open", str(tmp_path / "case.sealed"), "--key",
                                       str(tmp_path / "lawyer"), "--passphrase-stdin"],
                                input=PASSPHRASE + "\n")
    assert result.exit_code == 1
    assert "the sealed bundle is damaged or cut short: nothing of it can be trusted; nothing " \
        "was written" in result.output
    assert "MARKER" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.sealed", "lawyer"]


def test_keys_recipient_needs_no_instance_and_keeps_the_private_half_wrapped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "no-instance"))
    monkeypatch.setenv("INTAKE_KEYS_DIR", str(tmp_path / "no-keys"))
    result = CliRunner().invoke(main, ["keys", "recipient", str(tmp_path / "un"),
                                       "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    key = unlock_recipient((tmp_path / "un").read_bytes(), PASSPHRASE)
    assert read_public((tmp_path / "un.pub").read_bytes()) == key.public_key
    assert key.to_bytes() not in (tmp_path / "un").read_bytes()
    assert (tmp_path / "un").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "no-instance").exists()


def test_a_sealed_export_for_a_use_the_family_did_not_allow_is_refused_and_writes_nothing(
        app: Flask, tmp_path: Path, recipient: tuple[bytes, bytes]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "lawyer.pub").write_bytes(recipient[1])
    submit(app.test_client())
    [case_id] = case_ids(app)
    result = app.test_cli_runner().invoke(args=[
        "export", case_id, "--reviewer", "reviewer", "--to", str(out / "lawyer.pub"),
        "--out", str(out / "case.sealed"), "--purpose", "publish", "--passphrase-stdin"],
        input=REVIEWER_PASSPHRASE + "\n")
    assert result.exit_code == 1
    assert "the family's consent does not cover this use (publish): state why to export " \
        "anyway (--consent-reason); nothing was exported" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["lawyer.pub"]


def test_a_table_of_cases_leaves_out_those_whose_family_did_not_allow_the_use(
        app: Flask, tmp_path: Path, recipient: tuple[bytes, bytes]) -> None:
    """Two cases; only the first family allowed UN mechanisms: the table for the UN holds
    one row, names the other as left out, and opens with the recipient's key."""
    import csv
    import zipfile

    from tests.submit.conftest import filled_form, post_form
    secret, public = recipient
    (tmp_path / "lawyer").write_bytes(secret)
    (tmp_path / "lawyer.pub").write_bytes(public)
    post_form(app.test_client(), filled_form(arrest_forces="سپاه"))
    post_form(app.test_client(), filled_form(consent_un=None, name="مریم"))
    first, second = case_ids(app)
    result = app.test_cli_runner().invoke(args=[
        "table", first, second, "--reviewer", "reviewer", "--purpose", "un", "--to",
        str(tmp_path / "lawyer.pub"), "--out", str(tmp_path / "cases.sealed"),
        "--passphrase-stdin"], input=REVIEWER_PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    assert f"Left out, as their families did not allow this use: {second}" in result.output
    opened = CliRunner().invoke(main, ["open", str(tmp_path / "cases.sealed"), "--key",
                                       str(tmp_path / "lawyer"), "--passphrase-stdin"],
                                input=PASSPHRASE + "\n")
    assert opened.exit_code == 0, opened.output
    with zipfile.ZipFile(tmp_path / "cases.zip") as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("cases.csv").decode())))
    assert [(row["case"], row["perpetrators"]) for row in rows] == [(first, "سپاه")]
