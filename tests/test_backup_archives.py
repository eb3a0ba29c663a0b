"""Restore against crafted archives: only known plain files land, nothing runs, one message."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from intake import create_app
from intake.cli import main
from intake.desk import backup
from intake.desk.setup import write_config
from intake.store import pgdump
from intake.store.blobs import Store
from intake.store.db import make_engine
from tests.conftest import Instance
from tests.pg import PostgresServer

BLOB = "ab" * 16
OTHER_BLOB = "cd" * 16
Entry = tuple[tarfile.TarInfo, bytes]


@pytest.fixture
def made(instance: Instance, tmp_path: Path) -> Path:
    """A real backup of the test instance, with its config file and one blob."""
    write_config(instance.instance_path, {"ORGANISATION_NAME": "Justice for Iran"})
    blob = Store(instance.instance_path / "store").new_blob()
    blob.file.write(b"ciphertext")
    blob.commit()
    target = tmp_path / "backups" / "made.tar"
    target.parent.mkdir()
    backup.write_backup(instance.instance_path, instance.keys_dir, target, instance.database_url)
    return target


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str,
           request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where restores go: an empty parent folder (and an empty PostgreSQL database), named by
    the environment."""
    root = tmp_path / "new"
    root.mkdir()
    monkeypatch.setenv("INTAKE_INSTANCE", str(root / "instance"))
    monkeypatch.setenv("INTAKE_KEYS_DIR", str(root / "keys"))
    if backend == "sqlite":
        yield root
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database(migrated=False)
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    try:
        yield root
    finally:
        server.drop(url)


def entries(path: Path) -> list[Entry]:
    """Every member but the manifest, with its bytes."""
    with tarfile.open(path) as archive:
        return [(member, archive.extractfile(member).read())  # type: ignore[union-attr]
                for member in archive.getmembers() if member.name != backup.MANIFEST]


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
           link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data) if kind == tarfile.REGTYPE else 0, link
    return info, data


def write_archive(path: Path, items: list[Entry], manifest: bytes | None = None) -> Path:
    """Write a tar of `items` and a manifest that lists every one with its true SHA-256."""
    if manifest is None:
        manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {info.name}\n"
                           for info, data in items).encode()
    with tarfile.open(path, "w") as archive:
        for info, data in items:
            archive.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
        info = tarfile.TarInfo(backup.MANIFEST)
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
    return path


def restore(path: Path) -> Result:
    # The admin confirms the backup's root fingerprint at the prompt.
    return CliRunner().invoke(main, ["restore", str(path)], input="y\n")


def assert_refused(result: Result, message: str, target: Path) -> None:
    """One clear message, no traceback, and nothing written anywhere under `target`."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"Error: {message}" in result.output
    assert "; nothing was restored" in result.output
    assert list(target.iterdir()) == []
    url = os.environ.get("INTAKE_DATABASE_URL")
    if url:
        engine = make_engine(url)
        try:
            assert pgdump.is_empty(engine)
        finally:
            engine.dispose()


def with_settings(made: Path, settings: bytes, name: str = "instance/settings.json") -> list[
        Entry]:
    items = [entry for entry in entries(made) if entry[0].name != "instance/settings.json"]
    return [*items, member(name, settings)]


def settings_of(made: Path) -> dict[str, object]:
    [data] = [data for info, data in entries(made) if info.name == "instance/settings.json"]
    loaded: dict[str, object] = json.loads(data)
    return loaded


@pytest.mark.parametrize("name", [
    "../evil.json", "/tmp/evil.json", "zzz/evil.json", "keys/zzz/evil.json",
    "instance/../evil.json", "keys/users/../../evil.json", "instance/store/../evil.json",
    "./instance/store/" + OTHER_BLOB, "instance/evil.json", "instance/config.py.evil",
    "keys/users/evil.json.tmp", "instance/store/" + OTHER_BLOB + "/evil.json",
])
def test_restore_refuses_a_member_outside_the_known_paths_even_when_the_manifest_lists_it(
        made: Path, target: Path, tmp_path: Path, name: str) -> None:
    """A member `zzz/evil.json` used to land in keys/; `../` climbed out of the instance."""
    crafted = write_archive(tmp_path / "crafted.tar", [*entries(made), member(name, b"{}")])
    result = restore(crafted)
    assert_refused(result, f"the backup holds {name!r}, which is not a file intake restores",
                   target)
    assert [p for p in tmp_path.rglob("evil*")] == []


@pytest.mark.parametrize(("kind", "link"), [
    (tarfile.SYMTYPE, "/etc/passwd"), (tarfile.LNKTYPE, "instance/intake.sqlite3"),
    (tarfile.CHRTYPE, ""), (tarfile.BLKTYPE, ""), (tarfile.FIFOTYPE, ""), (tarfile.DIRTYPE, ""),
], ids=["symlink", "hard-link", "char-device", "block-device", "fifo", "folder"])
def test_restore_refuses_links_devices_and_folders_under_a_known_name(
        made: Path, target: Path, tmp_path: Path, kind: bytes, link: str) -> None:
    """A link named like a blob, listed in the manifest, would write through to its target."""
    name = f"instance/store/{OTHER_BLOB}"
    crafted = write_archive(tmp_path / "crafted.tar",
                            [*entries(made), member(name, kind=kind, link=link)])
    result = restore(crafted)
    assert_refused(result, f"{name!r} in the backup is a link, folder or device, not a plain "
                   "file", target)


def test_restore_refuses_a_known_member_twice(made: Path, target: Path, tmp_path: Path) -> None:
    items = entries(made)
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {info.name}\n"
                       for info, data in items).encode()
    crafted = write_archive(tmp_path / "crafted.tar", [*items, items[-1]], manifest)
    assert_refused(restore(crafted), f"{items[-1][0].name!r} is in the backup twice or not in "
                   "its manifest", target)


def manifest_with(made: Path, extra: str) -> bytes:
    items = entries(made)
    lines = [f"{hashlib.sha256(data).hexdigest()}  {info.name}" for info, data in items]
    extra = lines[0] if extra == "DUPLICATE" else extra
    return "\n".join([*lines[:2], extra, *lines[2:]]).encode() + b"\n"


@pytest.mark.parametrize(("manifest_line", "message"), [
    ("not a manifest line", "line 3 of the backup's manifest is malformed"),
    ("0" * 64 + " instance/intake.sqlite3", "line 3 of the backup's manifest is malformed"),
    ("", "line 3 of the backup's manifest is malformed"),
    ("DUPLICATE", "line 3 of the backup's manifest is malformed"),
    ("0" * 64 + f"  instance/store/{OTHER_BLOB}",
     f"the backup is missing 1 files its manifest lists (the first is "
     f"'instance/store/{OTHER_BLOB}')"),
], ids=["garbage", "one-space", "blank", "duplicate", "missing-file"])
def test_a_malformed_manifest_gets_one_message(made: Path, target: Path, tmp_path: Path,
                                               manifest_line: str, message: str) -> None:
    crafted = write_archive(tmp_path / "crafted.tar", entries(made),
                            manifest_with(made, manifest_line))
    assert_refused(restore(crafted), message, target)


def test_a_manifest_that_is_not_text_gets_one_message(made: Path, target: Path,
                                                      tmp_path: Path) -> None:
    crafted = write_archive(tmp_path / "crafted.tar", entries(made), b"\xff\xfe\x00")
    assert_refused(restore(crafted), "the backup's manifest is not text", target)


def test_a_blob_that_does_not_match_the_manifest_leaves_nothing(made: Path, target: Path,
                                                               tmp_path: Path) -> None:
    """Files already unpacked when the mismatch shows are removed, staging folders too."""
    items = entries(made)
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {info.name}\n"
                       for info, data in items).encode()
    changed = [(info, data[:-1] + bytes([data[-1] ^ 1]) if info.name.startswith(
        "instance/store/") else data) for info, data in items]
    crafted = write_archive(tmp_path / "crafted.tar", changed, manifest)
    blob = [info.name for info, _ in items if info.name.startswith("instance/store/")][0]
    assert_refused(restore(crafted), f"{blob!r} does not match the manifest", target)


@pytest.mark.parametrize(("settings", "message"), [
    (b"{not json", "the backup's settings are not valid JSON"),
    (b"\xff{}", "the backup's settings are not valid JSON"),
    (b"[1, 2]", "the backup's settings are not a JSON object"),
    (b"[" * 100_000 + b"]" * 100_000, "the backup's settings are not valid JSON"),
])
def test_settings_that_are_not_a_json_object_get_one_message(
        made: Path, target: Path, tmp_path: Path, settings: bytes, message: str) -> None:
    crafted = write_archive(tmp_path / "crafted.tar", with_settings(made, settings))
    assert_refused(restore(crafted), message, target)


@pytest.mark.parametrize(("change", "message"), [
    ({"EVIL": "x"}, "'EVIL' is not a setting intake knows"),
    ({"KEYS_DIR": "/tmp/evil"}, "'KEYS_DIR' is not a setting intake knows"),
    ({"INSECURE_TEST_PROFILES": True}, "'INSECURE_TEST_PROFILES' is not a setting intake knows"),
    ({"MAX_FILES": "20"}, "MAX_FILES must be a whole number"),
    ({"MAX_FILES": 2.5}, "MAX_FILES must be a whole number"),
    ({"SESSION_COOKIE_SECURE": 1}, "SESSION_COOKIE_SECURE must be true or false"),
    ({"MAX_FILES": True}, "MAX_FILES must be a whole number"),
    ({"ORGANISATION_NAME": ["a"]}, "ORGANISATION_NAME must be text"),
    ({"ORGANISATION_NAME": {"a": 1}}, "ORGANISATION_NAME must be text"),
    ({"MAX_FILES": -1}, "MAX_FILES is out of range"),
    ({"PEPPER": None}, "PEPPER must be text"),
    ({"QUICK_EXIT_URL": "javascript:alert(1)"},
     "the backup's settings cannot run an instance: QUICK_EXIT_URL must be an https:// address"),
    ({"PEPPER": "short"}, "the backup's settings cannot run an instance: PEPPER is missing or "
                          "short: run `intake init`"),
    # Whoever edits a backup must not restore an instance whose session cookie any site's
    # request carries, or script reads, or that accepts uploads of any size.
    ({"SESSION_COOKIE_SAMESITE": "None"}, "the backup's settings cannot run an instance: "
                                          "SESSION_COOKIE_SAMESITE must be Strict"),
    ({"SESSION_COOKIE_HTTPONLY": False}, "the backup's settings cannot run an instance: "
                                         "SESSION_COOKIE_HTTPONLY must be true"),
    ({"MAX_CONTENT_LENGTH": 2**62}, "the backup's settings cannot run an instance: "
                                    "MAX_CONTENT_LENGTH must be at most 8 GiB"),
], ids=lambda value: str(value)[:40])
def test_unknown_settings_and_wrong_types_are_refused_with_one_message(
        made: Path, target: Path, tmp_path: Path, change: dict[str, object],
        message: str) -> None:
    settings = json.dumps(settings_of(made) | change).encode()
    crafted = write_archive(tmp_path / "crafted.tar", with_settings(made, settings))
    if "cannot run" not in message:
        message = f"the backup's settings cannot be used: {message}"
    assert_refused(restore(crafted), message, target)


def test_missing_secrets_are_refused(made: Path, target: Path, tmp_path: Path) -> None:
    settings = settings_of(made)
    del settings["PEPPER"], settings["SECRET_KEY"]
    crafted = write_archive(tmp_path / "crafted.tar",
                            with_settings(made, json.dumps(settings).encode()))
    assert_refused(restore(crafted), "the backup's settings cannot be used: SECRET_KEY is "
                   "missing; PEPPER is missing", target)


def test_not_a_tar_file_and_a_truncated_one_get_one_message(made: Path, target: Path,
                                                            tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00not a backup" * 100)
    assert_refused(restore(junk), "the backup file is damaged or truncated", target)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(made.read_bytes()[:10_000])
    assert_refused(restore(cut), "the backup file is damaged or truncated", target)


def test_a_file_without_a_manifest_is_not_a_backup(made: Path, target: Path,
                                                   tmp_path: Path) -> None:
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as archive:
        for info, data in entries(made):
            archive.addfile(info, io.BytesIO(data))
    assert_refused(restore(plain), "this file has no manifest: it is not an intake backup",
                   target)


def database_bytes(tmp_path: Path, statements: list[str]) -> bytes:
    path = tmp_path / "crafted.sqlite3"
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


def with_database(made: Path, data: bytes, tmp_path: Path) -> Path:
    """Write a copy of a real backup whose database file is replaced by `data`."""
    items = [(info, data if info.name == "instance/intake.sqlite3" else body)
             for info, body in entries(made)]
    for info, body in items:
        info.size = len(body)
    return write_archive(tmp_path / "crafted.tar", items)


@pytest.mark.parametrize("statements", [
    None,
    ["create table alembic_version (version_num text)",
     "insert into alembic_version values ('0006')",
     "create table t (x)", "create trigger evil after insert on t begin delete from t; end"],
    ["create table alembic_version (version_num text)",
     "insert into alembic_version values ('0006')",
     "create view evil as select 1"],
    ["create table t (x)"],
], ids=["not-a-database", "trigger", "view", "no-version"])
@pytest.mark.sqlite_only("crafted SQLite files; crafted PostgreSQL dumps are tested below")
def test_a_database_that_is_damaged_or_carries_triggers_is_refused_after_unpacking(
        made: Path, target: Path, tmp_path: Path, statements: list[str] | None) -> None:
    """The database is checked after every file is unpacked: all of them must go again."""
    data = b"SQLite format 3\x00" + b"\x07" * 5000 if statements is None else \
        database_bytes(tmp_path, statements)
    crafted = with_database(made, data, tmp_path)
    assert_refused(restore(crafted), "the backup's database is damaged or not an intake "
                   "database", target)


@pytest.mark.sqlite_only("a crafted SQLite file; the PostgreSQL dump's case is tested below")
def test_a_database_from_a_newer_intake_is_refused(made: Path, target: Path,
                                                   tmp_path: Path) -> None:
    data = database_bytes(tmp_path, ["create table alembic_version (version_num text)",
                                     "insert into alembic_version values ('9999_future')"])
    crafted = with_database(made, data, tmp_path)
    assert_refused(restore(crafted), "the backup's database is at revision '9999_future', "
                   "which this version of intake does not know", target)


def test_a_full_disk_part_way_leaves_nothing(made: Path, target: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from intake.desk import restore as restoring

    written: list[int] = []
    real_fsync = restoring.os.fsync

    def fsync(fd: int) -> None:
        written.append(fd)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(restoring.os, "fsync", fsync)
    assert_refused(restore(made), "the backup cannot be read or written (No space left on "
                   "device)", target)


def old_format(made: Path, tmp_path: Path, config: str) -> Path:
    """A backup as intake wrote them before settings were data: config.py, no settings.json."""
    return write_archive(tmp_path / "old.tar",
                         with_settings(made, config.encode(), name="instance/config.py"))


@pytest.mark.parametrize("config", [
    "import os\nos.mkdir({marker!r})\n",
    "SECRET_KEY = __import__('os').mkdir({marker!r})\n",
    "SECRET_KEY = 'a' * 64\nif True:\n    __import__('os').mkdir({marker!r})\n",
    "(lambda: __import__('os').mkdir({marker!r}))()\n",
    "SECRET_KEY: str = __import__('os').mkdir({marker!r})\n",
], ids=["statement", "call-in-value", "block", "expression", "annotated"])
def test_an_old_backups_config_py_is_read_as_data_and_never_run(
        made: Path, target: Path, tmp_path: Path, config: str) -> None:
    """`intake restore` used to write the archive's config.py, which Flask then executed."""
    marker = tmp_path / "ran"
    result = restore(old_format(made, tmp_path, config.format(marker=str(marker))))
    assert "intake never runs code from a backup" in result.output
    assert_refused(result, "the backup's config.py holds more than simple settings (line ",
                   target)
    assert not marker.exists()


def test_an_old_backup_with_simple_settings_restores_them(made: Path, target: Path,
                                                         tmp_path: Path) -> None:
    secret, pepper = "1f" * 32, "2e" * 32
    config = ("# intake instance configuration, written by `intake init`.\n"
              f"SECRET_KEY = {secret!r}\nPEPPER = {pepper!r}\n"
              "ORGANISATION_NAME = 'عدالت برای ایران'\nSESSION_COOKIE_SECURE = False\n")
    result = restore(old_format(made, tmp_path, config))
    assert result.exit_code == 0, result.output
    app = create_app()
    assert (app.config["SECRET_KEY"], app.config["PEPPER"]) == (secret, pepper)
    assert app.config["ORGANISATION_NAME"] == "عدالت برای ایران"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_setting_crafted_to_break_out_of_its_string_stays_a_string(
        made: Path, target: Path, tmp_path: Path) -> None:
    """config.py is written from the backup's values: none of them can become a statement."""
    marker = tmp_path / "ran"
    crafted_name = f"x'\n__import__('os').mkdir({str(marker)!r})\n#\"\"\"\\"
    crafted_url = "https://a.example/'''\n"
    settings = json.dumps(settings_of(made) | {"ORGANISATION_NAME": crafted_name,
                                               "BASE_URL": crafted_url})
    result = restore(write_archive(tmp_path / "crafted.tar",
                                   with_settings(made, settings.encode())))
    assert result.exit_code == 0, result.output
    app = create_app()
    assert not marker.exists()
    assert app.config["ORGANISATION_NAME"] == crafted_name
    assert app.config["BASE_URL"] == crafted_url


def test_a_restored_instance_gets_the_backups_secrets_and_settings(
        instance: Instance, made: Path, target: Path) -> None:
    from flask import Config

    source = Config(str(instance.instance_path))
    source.from_pyfile("config.py")
    result = restore(made)
    assert result.exit_code == 0, result.output
    assert (target / "instance" / "config.py").stat().st_mode & 0o777 == 0o600
    app = create_app()
    for key in ("SECRET_KEY", "PEPPER", "ORGANISATION_NAME"):
        assert app.config[key] == source[key]
    assert app.config["ORGANISATION_NAME"] == "Justice for Iran"
    assert app.extensions["intake.settings"] is not None
    assert [p.read_bytes() for p in (target / "instance" / "store").iterdir()] == [b"ciphertext"]
    # No staging folder is left beside the restored ones.
    assert sorted(p.name for p in target.iterdir()) == ["instance", "keys"]


def test_a_backup_holds_settings_as_data_and_no_code(made: Path) -> None:
    import time

    names = [info.name for info, _ in entries(made)]
    assert "instance/config.py" not in names
    assert not [name for name in names if name.endswith(".py")]
    assert sorted(settings_of(made)) == ["ORGANISATION_NAME", "PEPPER", "SECRET_KEY"]
    day = int(time.time()) // 86400 * 86400
    with tarfile.open(made) as archive:
        headers = {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in archive.getmembers()}
    assert headers == {(day, 0, 0, "", "")}


def test_a_backup_names_the_config_keys_it_leaves_out(instance: Instance,
                                                      tmp_path: Path) -> None:
    (instance.instance_path / "config.py").write_text(
        f"SECRET_KEY = {'a' * 64!r}\nPEPPER = {'b' * 64!r}\nKEYS_DIR = '/srv/keys'\n"
        "PREFERRED_URL_SCHEME = 'https'\n")
    written = backup.write_backup(instance.instance_path, instance.keys_dir,
                                  tmp_path / "b.tar", instance.database_url)
    assert written.left_out == ["KEYS_DIR", "PREFERRED_URL_SCHEME"]
    assert sorted(settings_of(tmp_path / "b.tar")) == ["PEPPER", "SECRET_KEY"]


def test_a_backup_refuses_a_keyring_file_it_does_not_know(instance: Instance,
                                                         tmp_path: Path) -> None:
    """Silently dropping it could lose a key; carrying it would let restore write anywhere."""
    write_config(instance.instance_path, {})
    (instance.keys_dir / "README.md").write_text("kept out of backups")
    (instance.keys_dir / "users" / ".x.json.0123456789abcdef.tmp").write_text("in flight")
    written = backup.write_backup(instance.instance_path, instance.keys_dir, tmp_path / "a.tar",
                                  instance.database_url)
    names = [info.name for info, _ in entries(tmp_path / "a.tar")]
    assert written.count == len(names)
    assert [name for name in names if "README" in name or name.endswith(".tmp")] == []
    (instance.keys_dir / "zzz").mkdir()
    (instance.keys_dir / "zzz" / "evil.json").write_text("{}")
    with pytest.raises(backup.BackupError, match="keys/zzz/evil.json is not a keyring file"):
        backup.write_backup(instance.instance_path, instance.keys_dir, tmp_path / "b.tar",
                            instance.database_url)
    assert not (tmp_path / "b.tar").exists()


def test_restore_fills_empty_folders_made_in_advance(made: Path, target: Path) -> None:
    (target / "instance").mkdir()
    (target / "keys").mkdir()
    result = restore(made)
    assert result.exit_code == 0, result.output
    assert (target / "instance" / "config.py").is_file()
    assert sorted(p.name for p in target.iterdir()) == ["instance", "keys"]


def crafted_dump(postgres: PostgresServer, statements: list[str], tmp_path: Path) -> bytes:
    """Dump a migrated PostgreSQL database after running `statements` in it."""
    url = postgres.new_database()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
        engine.dispose()
        pgdump.dump(url, tmp_path / "crafted.pgdump")
    finally:
        engine.dispose()
        postgres.drop(url)
    return (tmp_path / "crafted.pgdump").read_bytes()


def with_dump(made: Path, data: bytes, tmp_path: Path) -> Path:
    """Write a copy of a real PostgreSQL backup whose dump is replaced by `data`."""
    items = [(info, data if info.name == pgdump.DUMP else body)
             for info, body in entries(made)]
    assert pgdump.DUMP in [info.name for info, _ in items]
    for info, body in items:
        info.size = len(body)
    return write_archive(tmp_path / "crafted.tar", items)


EVIL_FUNCTION = ("CREATE FUNCTION evil() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN DELETE FROM submissions; RETURN NULL; END $$")


@pytest.mark.parametrize(("statements", "message"), [
    ([EVIL_FUNCTION, "CREATE TRIGGER evil AFTER INSERT ON submissions "
      "FOR EACH STATEMENT EXECUTE FUNCTION evil()"], "the backup's database is damaged or "
     "not an intake database (the backup's database holds what an intake database does not)"),
    (["CREATE VIEW evil AS SELECT 1 AS one"], "the backup's database is damaged or not an "
     "intake database (the backup's database holds what an intake database does not)"),
    (["UPDATE alembic_version SET version_num = '9999_future'"],
     "the backup's database is at revision '9999_future', which this version of intake does "
     "not know"),
], ids=["trigger", "view", "newer"])
@pytest.mark.postgresql_only
def test_a_postgresql_dump_with_triggers_views_or_from_a_newer_intake_is_refused(
        made: Path, target: Path, tmp_path: Path, postgres: PostgresServer,
        statements: list[str], message: str) -> None:
    """A dump is SQL that pg_restore runs: a trigger or function in it would run inside the
    restored instance. Refused, and the target database is left empty."""
    crafted = with_dump(made, crafted_dump(postgres, statements, tmp_path), tmp_path)
    assert_refused(restore(crafted), message, target)


@pytest.mark.postgresql_only
def test_a_postgresql_backup_is_restored_only_into_an_empty_database(
        made: Path, target: Path) -> None:
    engine = make_engine(os.environ["INTAKE_DATABASE_URL"])
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE kept (x integer)")
    engine.dispose()
    result = restore(made)
    assert result.exit_code == 1
    assert ("the database INTAKE_DATABASE_URL names is not empty; restore into an empty "
            "database; nothing was restored") in result.output
    assert list(target.iterdir()) == []


@pytest.mark.postgresql_only
def test_a_restored_postgresql_backup_holds_the_accounts_and_audit_chain(
        made: Path, target: Path) -> None:
    result = restore(made)
    assert result.exit_code == 0, result.output
    assert "keep INTAKE_DATABASE_URL set" in result.output
    assert not (target / "instance" / "intake.pgdump").exists()
    assert not (target / "instance" / "intake.sqlite3").exists()
    from sqlalchemy.orm import Session

    from intake.desk.audit import verify
    from intake.store.models import User

    engine = make_engine(os.environ["INTAKE_DATABASE_URL"])
    with Session(engine) as db:
        assert sorted(u.name for u in db.query(User)) == ["admin", "reviewer"]
        verify(db)
    engine.dispose()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("check", ["listing", "restored"])
def test_each_check_of_a_dump_alone_refuses_a_trigger(
        tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
        check: str) -> None:
    """The archive's listing is checked before pg_restore, and what it made after: either
    alone refuses a dump carrying a function and a trigger."""
    path = tmp_path / "evil.pgdump"
    path.write_bytes(crafted_dump(postgres, [EVIL_FUNCTION, "CREATE TRIGGER evil AFTER INSERT "
                                             "ON submissions FOR EACH STATEMENT EXECUTE "
                                             "FUNCTION evil()"], tmp_path))
    # Each check runs with the other one turned off.
    if check == "restored":
        monkeypatch.setattr(pgdump, "entries", lambda _path: [])
    else:
        monkeypatch.setattr(pgdump, "check_restored", lambda _engine: None)
    url = postgres.new_database(migrated=False)
    engine = make_engine(url)
    try:
        with pytest.raises(pgdump.DumpError, match="holds what an intake database does not"):
            pgdump.restore(path, url, engine)
    finally:
        engine.dispose()
        postgres.drop(url)
