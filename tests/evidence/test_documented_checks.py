"""The shell checks in docs/verifying-evidence.md run as written and catch changes."""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.evidence.bundles import Members, make_bundle, retag, rewrite

DOC = Path(__file__).parents[2] / "docs" / "verifying-evidence.md"


def documented_script() -> str:
    match = re.search(r"```sh\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert match
    return match.group(1)


def run_documented_checks(bundle: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Unpack the (made-up) bundle and run the page's shell block in the bag's folder."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    [bag] = folder.iterdir()
    return subprocess.run(["bash", "-c", documented_script()], cwd=bag,  # noqa: S603 S607
                          capture_output=True, text=True, check=False)


def test_the_documented_commands_accept_a_good_bundle(tmp_path: Path) -> None:
    result = run_documented_checks(make_bundle(tmp_path / "case.zip"), tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Signature Verified Successfully"


def change_payload(members: Members) -> None:
    before = members["data/case.json"]
    members["data/case.json"] = before.replace(b"\\u0639", b"\\u0640")
    assert members["data/case.json"] != before


def change_tags_and_manifest(members: Members) -> None:
    change_payload(members)
    digest = hashlib.sha256(members["data/case.json"]).hexdigest().encode()
    lines = members["manifest-sha256.txt"].split(b"\n")
    members["manifest-sha256.txt"] = b"\n".join(
        digest + line[64:] if line.endswith(b"data/case.json") else line for line in lines)
    retag(members)


@pytest.mark.parametrize(("edit", "caught_by"), [
    (change_payload, "data/case.json: FAILED"),
    (change_tags_and_manifest, "signature/signed-message.bin differ")])
def test_the_documented_commands_refuse_a_changed_bundle(
        tmp_path: Path, edit: Callable[[Members], None], caught_by: str) -> None:
    """A changed answer is caught by sha256sum; with both manifests redone, by the signature."""
    result = run_documented_checks(rewrite(make_bundle(tmp_path / "case.zip"), edit),
                                   tmp_path / "out")
    assert result.returncode != 0
    assert caught_by in result.stdout + result.stderr
