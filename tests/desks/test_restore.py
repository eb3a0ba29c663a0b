"""`intake restore` on a coalition: every desk's keyring chain is checked against that desk's
root, as the admins kept it, and a backup whose second desk's chain was swapped restores
nothing."""

from __future__ import annotations

import base64
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from intake import create_app
from intake.crypto import PrivateKey
from intake.desk import backup
from intake.desk.setup import initialise, write_config
from intake.desk.trust import fingerprint_text
from intake.store.settings import render_desk_roots
from tests.conftest import ADMIN_PASSPHRASE, instance_config
from tests.desks.conftest import Coalition, logged_in
from tests.test_backup_archives import entries, write_archive
from tests.test_signed_keyring import restore_with

pytestmark = pytest.mark.sqlite_only(
    "the keyring check is the same for both databases; restoring a pg_dump into an empty "
    "PostgreSQL database is tested in test_backup")


@pytest.fixture
def made(coalition: Coalition, tmp_path: Path) -> Path:
    """A real backup of the three-desk instance, its config.py pinning every desk's root."""
    return backup_of(coalition, tmp_path)


def backup_of(coalition: Coalition, tmp_path: Path) -> Path:
    """Back the three-desk instance up, its config.py pinning every desk's root."""
    inst = coalition.instance
    first = inst.initialised.root_text if inst.initialised else ""
    write_config(inst.instance_path, {"ROOT_FINGERPRINT": first,
                                      "DESK_ROOTS": render_desk_roots(coalition.roots)})
    target = tmp_path / "backups" / "made.tar"
    target.parent.mkdir()
    backup.write_backup(inst.instance_path, inst.keys_dir, target, inst.database_url)
    return target


def all_roots(coalition: Coalition) -> list[str]:
    """--root for the first desk, and --root DESK=FINGERPRINT for b and c, as kept on paper."""
    first = coalition.instance.initialised
    return ["--root", first.root_text if first else "",
            *(f"--root={desk}={text}" for desk, text in sorted(coalition.roots.items()))]


def attacker_desk_b(tmp_path: Path) -> tuple[dict[str, bytes], str]:
    """A desk `b` made by someone else, with a root of their own: its keyring files (by name
    under keys/desks/b/) and its root fingerprint."""
    config = instance_config(tmp_path / "attacker") | {"DESK_ID": "b"}
    settings = create_app(config).extensions["intake.settings"]
    made = initialise(settings, [("mallory", "admin", ADMIN_PASSPHRASE)])
    folder = tmp_path / "attacker" / "keys" / "desks" / "b"
    files = {f"keys/desks/b/{path.relative_to(folder).as_posix()}": path.read_bytes()
             for path in folder.rglob("*") if path.is_file()}
    return files, made.root_text


def swapped(made: Path, tmp_path: Path, edit: str) -> Path:
    """The backup with desk b's chain swapped, as a seized-and-returned server would leave it,
    its manifest recomputed."""
    items = []
    if edit == "root":
        theirs, their_root = attacker_desk_b(tmp_path)
    for info, data in entries(made):
        if edit == "epoch-key" and info.name == "keys/desks/b/epochs/1/epoch.json":
            entry = json.loads(data)
            entry["public_key"] = base64.b64encode(
                PrivateKey.generate().public_key.raw).decode()
            data = json.dumps(entry).encode()
        if edit == "root" and info.name.startswith("keys/desks/b/"):
            continue  # desk b's whole keyring replaced below: root, certificates, epoch
        if edit in ("root", "settings") and info.name == backup.SETTINGS:
            values = json.loads(data)
            roots = dict(item.split("=", 1) for item in values["DESK_ROOTS"].split(";"))
            pinned = their_root if edit == "root" else fingerprint_text(bytes(32))
            values["DESK_ROOTS"] = render_desk_roots(roots | {"b": pinned})
            data = json.dumps(values).encode()
        info = tarfile.TarInfo(info.name)
        info.size = len(data)
        items.append((info, data))
    if edit == "root":
        for name, data in sorted(theirs.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            items.append((info, data))
    return write_archive(tmp_path / "swapped.tar", items)


def assert_nothing_restored(result: Result, target: Path,
                            message: str = "nothing was restored") -> None:
    assert result.exit_code != 0
    assert message in result.output
    assert not (target / "instance" / "config.py").exists()
    assert not (target / "keys").exists() or not any((target / "keys").iterdir())


@pytest.mark.parametrize("edit", ["epoch-key", "root"])
def test_a_backup_whose_second_desks_chain_was_swapped_is_refused_naming_that_desk(
        coalition: Coalition, made: Path, tmp_path: Path, edit: str) -> None:
    """A seized server returned with desk b's current epoch key replaced, or b's whole chain
    (root, certificates, epoch) replaced by the seizer's and DESK_ROOTS rewritten to match:
    restored with every desk's kept root, it is refused naming desk b, and nothing is
    written."""
    edited = swapped(made, tmp_path, edit)
    result = restore_with(edited, tmp_path / "new", *all_roots(coalition))
    assert_nothing_restored(result, tmp_path / "new")
    assert "desk b" in result.output
    assert "does not chain to the root" in result.output


def test_restoring_a_coalition_needs_every_desks_root(
        coalition: Coalition, made: Path, tmp_path: Path) -> None:
    """Only the first desk's --root, as before desks: refused, naming the desks whose roots
    are missing; with every desk's root it restores and pins each in config.py."""
    first = coalition.instance.initialised
    assert first
    only_first = restore_with(made, tmp_path / "a", "--root", first.root_text)
    assert_nothing_restored(only_first, tmp_path / "a")
    assert "desk b" in only_first.output
    restored = restore_with(made, tmp_path / "b", *all_roots(coalition))
    assert restored.exit_code == 0, restored.output
    config = (tmp_path / "b" / "instance" / "config.py").read_text()
    assert f"ROOT_FINGERPRINT = {first.root_text!r}" in config
    expected = f"b={coalition.roots['b']};c={coalition.roots['c']}"
    assert f"DESK_ROOTS = {expected!r}" in config


def test_without_root_every_desks_root_is_shown_and_asked(
        coalition: Coalition, made: Path, tmp_path: Path) -> None:
    """No --root: each desk's root is shown by name and confirmed in turn; declining desk b's
    restores nothing, confirming all three restores."""
    declined = restore_with(made, tmp_path / "a", answer="y\nn\n")
    assert_nothing_restored(declined, tmp_path / "a", "Aborted!")
    assert coalition.roots["b"] in declined.output
    accepted = restore_with(made, tmp_path / "b", answer="y\ny\ny\n")
    assert accepted.exit_code == 0, accepted.output
    assert all(coalition.roots[desk] in accepted.output for desk in ("b", "c"))


def test_a_root_given_for_a_desk_the_backup_does_not_have_is_refused(
        coalition: Coalition, made: Path, tmp_path: Path) -> None:
    """A typo in a desk's name must not leave the desk meant unchecked."""
    roots = [*all_roots(coalition), f"--root=x={coalition.roots['b']}"]
    result = restore_with(made, tmp_path / "a", *roots)
    assert_nothing_restored(result, tmp_path / "a")
    assert "desk x" in result.output


def test_the_roots_pinned_are_those_the_admin_gave_not_the_backups_settings(
        coalition: Coalition, made: Path, tmp_path: Path) -> None:
    """The backup's DESK_ROOTS was rewritten to pin another root for b (its keyring left as
    it was): restored with the kept roots, config.py pins b's kept root, not the rewritten
    one, so the server goes on checking b's chain against the root its admins kept."""
    edited = swapped(made, tmp_path, "settings")
    restored = restore_with(edited, tmp_path / "new", *all_roots(coalition))
    assert restored.exit_code == 0, restored.output
    config = (tmp_path / "new" / "instance" / "config.py").read_text()
    assert f"b={coalition.roots['b']};" in config
    assert fingerprint_text(bytes(32)) not in config


def test_a_second_desks_chain_cut_below_its_signed_checkpoint_is_refused(
        coalition: Coalition, app: Flask, tmp_path: Path) -> None:
    """b's admin logs in (signing a checkpoint of b's chain as it stands); the backup's
    newest certificate of b is then cut (what is left still chains to b's root): the restore
    is refused, naming desk b."""
    logged_in(app, "b-admin")
    made = backup_of(coalition, tmp_path)
    certificates = sorted(info.name for info, _ in entries(made)
                          if info.name.startswith("keys/desks/b/certs/"))
    assert len(certificates) >= 3
    items = [(info, data) for info, data in entries(made) if info.name != certificates[-1]]
    cut = write_archive(tmp_path / "cut.tar", items)
    result = restore_with(cut, tmp_path / "new", *all_roots(coalition))
    assert_nothing_restored(result, tmp_path / "new")
    assert "certificates of desk b" in result.output
