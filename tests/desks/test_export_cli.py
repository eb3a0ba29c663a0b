"""`intake export --to` on a coalition: a desk's reviewer exports only cases given to its desk,
with its desk's chain, and the bundle verifies against that desk's root."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from intake import create_app
from intake.cli import main
from intake.crypto import RFC_9106_LOW_MEMORY
from intake.evidence.seal import recipient_files
from tests.conftest import REVIEWER_PASSPHRASE
from tests.desks.conftest import Coalition
from tests.desks.test_routes import SEEN, send_to

PASSPHRASE = "a lawyer's long passphrase"


@pytest.fixture(scope="module")
def recipient() -> tuple[bytes, bytes]:
    """One recipient key pair (private file, public file), made once: Argon2id is slow."""
    return recipient_files(PASSPHRASE, RFC_9106_LOW_MEMORY)


def export(coalition: Coalition, case_id: str, name: str, folder: Path) -> tuple[int, str]:
    """Run `intake export` as `name` (on an app with the commands); return its exit code and
    output."""
    with_commands = create_app(dict(coalition.instance.config))
    result = with_commands.test_cli_runner().invoke(args=[
        "export", case_id, "--reviewer", name, "--to", str(folder / "lawyer.pub"),
        "--out", str(folder / f"{name}.sealed"), "--passphrase-stdin"],
        input=REVIEWER_PASSPHRASE + "\n")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_a_desks_reviewer_exports_a_shared_case_with_its_desks_chain_and_no_other_desk_can(
        app: Flask, coalition: Coalition, tmp_path: Path, recipient: tuple[bytes, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A case for b and c (b first): c's reviewer exports it, and the lawyer's `intake open`
    verifies it against c's root; the first desk's reviewer, not given it, is told no case
    has that id, exactly as for an id that does not exist, and nothing is written."""
    secret, public = recipient
    (tmp_path / "lawyer").write_bytes(secret)
    (tmp_path / "lawyer.pub").write_bytes(public)
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    code, output = export(coalition, case_id, "c-reviewer", tmp_path)
    assert code == 0, output
    refused = export(coalition, case_id, "reviewer", tmp_path)
    missing = export(coalition, "0" * 32, "reviewer", tmp_path)
    assert refused[0] == missing[0] == 1
    assert refused[1].replace(case_id, "ID") == missing[1].replace("0" * 32, "ID")
    assert not (tmp_path / "reviewer.sealed").exists()
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "no-instance"))
    opened = CliRunner().invoke(main, [
        "open", str(tmp_path / "c-reviewer.sealed"), "--key", str(tmp_path / "lawyer"),
        "--root", coalition.roots["c"], "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert opened.exit_code == 0, opened.output
    assert opened.output.endswith("VERIFIED: every check above holds.\n")
