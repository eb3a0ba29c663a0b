"""A backup that fails part way leaves nothing that could pass for a backup."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.desk import backup
from intake.desk.setup import write_config
from tests.conftest import Instance


@pytest.fixture
def served(instance: Instance) -> Instance:
    """The test instance with the config file a served instance has."""
    write_config(instance.instance_path, {"ORGANISATION_NAME": "test"})
    return instance


def test_a_backup_that_fails_part_way_leaves_no_file_behind(
        served: Instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_add, added = backup._add, []

    def failing_add(*args: object) -> None:
        if len(added) == 2:
            raise OSError("no space left on device")
        added.append(args[1])
        real_add(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(backup, "_add", failing_add)
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(OSError, match="no space"):
        backup.write_backup(served.instance_path, served.keys_dir, folder / "intake.tar",
                            served.database_url)
    assert list(folder.iterdir()) == []


def test_a_backup_is_private_to_its_owner(served: Instance, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    backup.write_backup(served.instance_path, served.keys_dir, folder / "intake.tar",
                            served.database_url)
    assert (folder / "intake.tar").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in folder.iterdir()] == ["intake.tar"]
