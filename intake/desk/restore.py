"""Restoring a backup: every member checked, nothing from it executed, nothing half-written.

A member is written only if its name is one a backup writes (the database,
blobs under their random names, keyring files in the keyring's layout) and
it is a plain file listed in the manifest; links, devices, folders, `../`
and absolute names are refused whatever the manifest says. Everything is
unpacked into private folders beside the targets while its SHA-256 is
checked, every desk's certificate chain is checked against the root the
admin gives for that desk, the database is checked and migrated there,
config.py is written from the backup's settings as data (with those roots
pinned, whatever the backup's settings said), and only then are the folders
renamed into place. Any failure removes what was unpacked and raises one
BackupError.

A backup of a PostgreSQL instance holds a pg_dump archive instead: it is
restored only into the empty PostgreSQL database that INTAKE_DATABASE_URL
names on the restoring host (see pgdump.py for what is checked), then
migrated; any later failure empties that database again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from sqlalchemy import Engine

from intake.crypto import DecryptionError, Keyring, KeyringError
from intake.crypto.files import fsync_dir, make_private_dirs
from intake.crypto.passphrase import needs_upgrade
from intake.desk import trust
from intake.desk.backup import (
    DATABASE,
    MANIFEST,
    OLD_CONFIG,
    SETTINGS,
    BackupError,
    is_known_member,
)
from intake.store import instance_config, pgdump
from intake.store.settings import DEFAULTS, Settings, SettingsError, render_desk_roots

CHUNK = 1 << 20
MAX_SETTINGS = 1 << 20
MAX_MANIFEST = 256 << 20
_LINE = re.compile(r"([0-9a-f]{64})  (\S[^\n]*)")
_PLAIN = (tarfile.REGTYPE, tarfile.AREGTYPE)


# Told a desk's id, whether it is the instance's first desk, and the root fingerprint its
# chain in the backup starts from (None if it holds no certificates), returns the fingerprint
# that desk's chain must chain to: the one the admin passed for it, or this one once
# confirmed; None if neither.
RootCheck = Callable[[str, bool, bytes | None], bytes | None]


def restore_backup(source: Path, instance: Path, keys: Path, root: RootCheck,
                   database_url: str | None = None, named: Collection[str] = ()) -> int:
    """Check a backup against its manifest and every desk's keyring against its root, then
    unpack it. `named` lists the desks the admin gave a root for by name: one the backup does
    not have is refused (a misspelt desk must not leave the one meant unchecked)."""
    _check_targets(instance, keys)
    engine = _empty_database(database_url)
    loaded = False
    try:
        with _plainly(), tarfile.open(source, "r") as archive:
            manifest, members = _checked_members(archive)
            _check_database_kind(members, engine)
            with _Staging(instance, keys) as staging:
                member, raw = _unpack(archive, members, manifest, staging)
                values = _settings(member, raw, instance, keys)
                roots = _check_keyrings(staging.keys, values, root, named)
                if engine is None:
                    _check_database(staging.instance / "intake.sqlite3")
                    _check_checkpoints(staging.instance / "intake.sqlite3", staging.keys, roots)
                else:
                    loaded = True
                    _load_dump(staging.path(pgdump.DUMP), str(database_url), engine)
                instance_config.write(staging.instance, values)
                staging.commit()
    except BaseException:
        if engine is not None and loaded:
            pgdump.empty(engine)
        raise
    finally:
        if engine is not None:
            engine.dispose()
    return len(members)


def _empty_database(database_url: str | None) -> Engine | None:
    """Return an engine for the PostgreSQL database to restore into (refused unless empty)."""
    if not pgdump.is_postgresql(database_url):
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from intake.store.db import make_engine

    engine = make_engine(str(database_url))
    try:
        empty = pgdump.is_empty(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise BackupError(f"the database INTAKE_DATABASE_URL names cannot be reached "
                          f"({type(exc).__name__})") from None
    if not empty:
        engine.dispose()
        raise BackupError("the database INTAKE_DATABASE_URL names is not empty; restore into "
                          "an empty database")
    return engine


def _check_database_kind(members: list[tarfile.TarInfo], engine: Engine | None) -> None:
    """Refuse a PostgreSQL dump without a PostgreSQL target, and a SQLite file with one."""
    names = {member.name for member in members}
    if pgdump.DUMP in names and engine is None:
        raise BackupError("the backup holds a PostgreSQL dump: set INTAKE_DATABASE_URL to an "
                          "empty PostgreSQL database to restore it into")
    if DATABASE in names and engine is not None:
        raise BackupError("the backup holds a SQLite database: restore it without "
                          "INTAKE_DATABASE_URL (moving between databases is not supported)")


def _check_keyrings(keys: Path, values: dict[str, instance_config.Value], root: RootCheck,
                    named: Collection[str]) -> dict[str, bytes]:
    """Check every desk's chain against the root the admin gives for it, pin those roots in
    `values` (ROOT_FINGERPRINT, DESK_ROOTS) and return them by desk."""
    keyring, first = Keyring(keys), str(values.get("DESK_ID", DEFAULTS["DESK_ID"]))
    # Every desk the keyring holds, and every desk the settings pin a root for: a desk whose
    # folder was deleted is refused rather than restored unpinned (a server trusts an unpinned
    # desk's keyring as it finds it).
    others = sorted((set(keyring.desk_ids()) | _desks_named(values.get("DESK_ROOTS")))
                    - {first})
    unknown = sorted(set(named) - {first, *others})
    if unknown:
        raise BackupError(f"a root was given for desk {unknown[0]}, which this backup does not "
                          f"have (its desks: {', '.join([first, *others])})")
    pinned = {first: _check_keyring(keyring, keys, first, True, root)}
    values["ROOT_FINGERPRINT"] = trust.fingerprint_text(pinned[first]) if pinned[first] else ""
    for desk_id in others:
        pinned[desk_id] = _check_keyring(keyring, keys, desk_id, False, root)
    values["DESK_ROOTS"] = render_desk_roots({desk_id: trust.fingerprint_text(found)
                                              for desk_id, found in pinned.items()
                                              if desk_id != first})
    return {desk_id: found for desk_id, found in pinned.items() if found}


def _desks_named(text: object) -> set[str]:
    """Return the desks a DESK_ROOTS setting ("desk=FINGERPRINT;...") names."""
    return {item.partition("=")[0].strip() for item in str(text or "").split(";")
            if item.strip()}


def _check_keyring(keyring: Keyring, keys: Path, desk_id: str, first: bool,
                   root: RootCheck) -> bytes:
    """Refuse a desk's chain that does not chain to the admin's root for it; return that root
    (empty only for a first desk from before certificates).

    A manifest proves only that the backup was not damaged: whoever edited the
    keyring could recompute it. The chain cannot be recomputed without an
    admin's signing key, so it is what decides.
    """
    desk = "the backup's keyring" if first else f"desk {desk_id}'s keyring"
    try:
        found = trust.server_root(keyring, desk_id, None)
    except (trust.TrustError, KeyringError) as exc:
        raise BackupError(f"{desk} cannot be trusted: {exc}") from None
    if found is None and not first:
        # Every desk after the first is certified as it is made: none here means deleted.
        raise BackupError(f"{desk} holds no certificates: they were deleted, or the desk's "
                          "folder was")
    if found is None and _pins_a_root(keyring, keys):
        # Accounts pin a root only once a chain exists: this chain was deleted, not missing.
        raise BackupError("the backup's accounts trust a root of trust, but its keyring holds "
                          "no certificates: they were deleted")
    expected = root(desk_id, first, found)
    if expected is None and found is None:
        return b""  # a backup made before certificates: `intake keys certify` after restoring
    if expected is None and first:
        raise BackupError("the backup's root of trust was not confirmed")
    if expected is None:
        raise BackupError(f"no root of trust was given or confirmed for desk {desk_id} "
                          f"(--root {desk_id}=FINGERPRINT, printed when it was added)")
    try:
        trust.sealing_epoch(keyring, desk_id, expected)
    except (trust.TrustError, KeyringError) as exc:
        raise BackupError(f"{desk} does not chain to the root "
                          f"{trust.fingerprint_text(expected)} given for desk {desk_id}: "
                          f"{exc}") from None
    return expected


def _pins_a_root(keyring: Keyring, keys: Path) -> bool:
    """Say whether any account's wrapped keys are format 2 (made with a pinned root)."""
    for path in sorted((keys / "users").glob("*.json")):
        try:
            if not needs_upgrade(keyring.user_key(path.stem)[1]):
                return True
        except (KeyringError, DecryptionError, ValueError, KeyError):
            continue  # an unreadable account opens nothing either way
    return False


def _check_checkpoints(database: Path, keys: Path, roots: dict[str, bytes]) -> None:
    """Refuse a desk's keyring shorter than the one the backup's own signed checkpoints saw.

    The certificates after a checkpoint (a revocation among them) can be cut from a
    backup without breaking the chain; a checkpoint signed when they were there cannot.
    """
    from sqlalchemy.orm import Session

    from intake.desk.audit import contradicting_checkpoint
    from intake.store.db import make_engine

    keyring = Keyring(keys)
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            for desk_id, root in sorted(roots.items()):
                chain = trust.load_chain(keyring, desk_id, root)
                found = contradicting_checkpoint(session, chain, keyring.certificates(desk_id))
                if found is not None:
                    raise BackupError(
                        f"the backup's checkpoint {found.id} saw {found.chain_length} "
                        f"certificates of desk {desk_id}, but its keyring holds "
                        f"{chain.length} that end elsewhere: certificates were cut from the "
                        "backup or replaced")
    finally:
        engine.dispose()


def _check_targets(instance: Path, keys: Path) -> None:
    """Refuse targets that hold anything, are links, or hold one another."""
    for folder in (instance, keys):
        if folder.is_symlink():
            raise BackupError(f"{folder} is a symbolic link; restore into a real, empty folder")
        if folder.exists() and any(folder.iterdir()):
            raise BackupError(f"{folder} is not empty; restore into empty folders")
    if instance == keys or instance in keys.parents or keys in instance.parents:
        raise BackupError("the instance folder and the keyring must not hold one another")


@contextlib.contextmanager
def _plainly() -> Iterator[None]:
    """Turn whatever a damaged archive or a full disk raises into one BackupError."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error):
        raise BackupError("the backup file is damaged or truncated") from None
    except OSError as exc:
        raise BackupError(f"the backup cannot be read or written ({exc.strerror or exc})") \
            from None


def _checked_members(archive: tarfile.TarFile) -> tuple[dict[str, str],
                                                         list[tarfile.TarInfo]]:
    """Check every member's name and type against the manifest before anything is written."""
    members = archive.getmembers()
    manifests = [member for member in members if member.name == MANIFEST]
    if len(manifests) != 1 or manifests[0].type not in _PLAIN:
        raise BackupError("this file has no manifest: it is not an intake backup")
    manifest = _manifest(archive, manifests[0])
    checked, seen = [], set()
    for member in members:
        if member is manifests[0]:
            continue
        name = member.name
        if not (is_known_member(name) or name == OLD_CONFIG):
            raise BackupError(f"the backup holds {name!r}, which is not a file intake restores")
        if member.type not in _PLAIN:
            raise BackupError(f"{name!r} in the backup is a link, folder or device, "
                              "not a plain file")
        if name in seen or name not in manifest:
            raise BackupError(f"{name!r} is in the backup twice or not in its manifest")
        seen.add(name)
        checked.append(member)
    missing = sorted(set(manifest) - seen)
    if missing:
        raise BackupError(f"the backup is missing {len(missing)} files its manifest lists "
                          f"(the first is {missing[0]!r})")
    if (DATABASE in seen) == (pgdump.DUMP in seen) or (SETTINGS in seen) == (OLD_CONFIG in seen):
        raise BackupError("the backup lacks its database or its settings")
    return manifest, checked


def _manifest(archive: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, str]:
    """Parse `<sha256>  <name>` lines; refuse anything else."""
    if member.size > MAX_MANIFEST:
        raise BackupError("the backup's manifest is too large")
    try:
        text = _read(archive, member).decode("utf-8")
    except UnicodeDecodeError:
        raise BackupError("the backup's manifest is not text") from None
    expected: dict[str, str] = {}
    for number, line in enumerate(text.split("\n")[:-1] if text.endswith("\n")
                                  else text.split("\n"), start=1):
        match = _LINE.fullmatch(line)
        if match is None or match.group(2) in expected:
            raise BackupError(f"line {number} of the backup's manifest is malformed")
        expected[match.group(2)] = match.group(1)
    return expected


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    source = archive.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name!r} is not a file")
    return source.read()


def _unpack(archive: tarfile.TarFile, members: list[tarfile.TarInfo],
            manifest: dict[str, str], staging: _Staging) -> tuple[str, bytes]:
    """Write each member into the staging folders, checking its hash; return the settings."""
    settings = ("", b"")
    for member in members:
        if member.name in (SETTINGS, OLD_CONFIG):
            # Kept in memory as data: it is never written as it came.
            if member.size > MAX_SETTINGS:
                raise BackupError("the backup's settings are too large")
            settings = (member.name, _read(archive, member))
            digest = hashlib.sha256(settings[1]).hexdigest()
        else:
            digest = _write_member(archive, member, staging.path(member.name))
        if digest != manifest[member.name]:
            raise BackupError(f"{member.name!r} does not match the manifest")
    staging.sync()
    return settings


def _write_member(archive: tarfile.TarFile, member: tarfile.TarInfo, destination: Path) -> str:
    """Write a member to a new private file; return the SHA-256 of what was written."""
    source = archive.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name!r} is not a file")
    make_private_dirs(destination.parent)
    digest = hashlib.sha256()
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _settings(member: str, raw: bytes, instance: Path,
              keys: Path) -> dict[str, instance_config.Value]:
    """Read the backup's settings as data, check them, and check they can run an instance."""
    try:
        checked = instance_config.checked(_settings_data(member, raw), "the backup's settings")
    except instance_config.ConfigError as exc:
        raise BackupError(str(exc)) from None
    try:
        # The test-profile switch is not carried; allowing it here only skips that one check.
        Settings.from_config({**DEFAULTS, "KEYS_DIR": str(keys), **checked,
                              "INSECURE_TEST_PROFILES": True}, instance)
    except SettingsError as exc:
        raise BackupError(f"the backup's settings cannot run an instance: {exc}") from None
    return checked


def _settings_data(member: str, raw: bytes) -> dict[str, object]:
    """Parse settings.json, or an old backup's config.py as data, never running it."""
    if member == OLD_CONFIG:
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BackupError("the backup's config.py is not text") from None
        return instance_config.literal_assignments(source, "the backup's config.py")
    try:
        values = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise BackupError("the backup's settings are not valid JSON") from None
    if not isinstance(values, dict):
        raise BackupError("the backup's settings are not a JSON object")
    return values


def _check_database(path: Path) -> None:
    """Refuse a database that is damaged, holds triggers or views, or is newer than this code.

    It is then migrated in place, before anything is moved into the instance.
    """
    from intake.store.db import make_engine

    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            # Functions named in a crafted schema run only when they are harmless.
            connection.execute("PRAGMA trusted_schema=OFF")
            integrity = connection.execute("PRAGMA integrity_check").fetchall()
            extras = connection.execute("SELECT name FROM sqlite_master "
                                        "WHERE type IN ('trigger', 'view')").fetchall()
            versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise BackupError("the backup's database is damaged or not an intake database") \
            from None
    if integrity != [("ok",)] or extras or len(versions) != 1:
        raise BackupError("the backup's database is damaged or not an intake database")
    engine = make_engine(f"sqlite:///{path}")
    try:
        _migrate(engine, versions[0][0])
    finally:
        engine.dispose()


def _load_dump(path: Path, database_url: str, engine: Engine) -> None:
    """Restore the dump into the empty database, check it, migrate it; never keep the file."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        pgdump.restore(path, database_url, engine)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except pgdump.DumpError as exc:
        raise BackupError(f"the backup's database is damaged or not an intake database "
                          f"({exc})") from None
    except SQLAlchemyError:
        raise BackupError("the backup's database is damaged or not an intake database") \
            from None
    finally:
        path.unlink(missing_ok=True)
    if len(versions) != 1:
        raise BackupError("the backup's database is damaged or not an intake database")
    _migrate(engine, versions[0][0])


def _migrate(engine: Engine, version: str) -> None:
    """Refuse a revision this code does not know; bring a known one up to date."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from intake.store.db import MIGRATIONS, upgrade

    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(version)
    except CommandError:
        raise BackupError(f"the backup's database is at revision {version!r}, which "
                          "this version of intake does not know: restore it with the version "
                          "that made it") from None
    try:
        upgrade(engine)
    except (SQLAlchemyError, CommandError) as exc:
        raise BackupError(f"the backup's database cannot be brought up to date "
                          f"({type(exc).__name__})") from None


class _Staging:
    """Private folders beside the instance and the keyring, renamed into place at the end."""

    def __init__(self, instance: Path, keys: Path) -> None:
        self.targets = {"keys": keys, "instance": instance}
        self.folders: dict[str, Path] = {}

    def __enter__(self) -> _Staging:
        for prefix, target in self.targets.items():
            make_private_dirs(target.parent)
            self.folders[prefix] = Path(tempfile.mkdtemp(
                prefix=f".{target.name}.restoring-", dir=target.parent))
        return self

    def __exit__(self, *_exc: object) -> None:
        for folder in self.folders.values():
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def instance(self) -> Path:
        return self.folders["instance"]

    @property
    def keys(self) -> Path:
        return self.folders["keys"]

    def path(self, member: str) -> Path:
        """Return where a member (already checked against the known names) is unpacked."""
        prefix, relative = member.split("/", 1)
        return self.folders[prefix].joinpath(*relative.split("/"))

    def sync(self) -> None:
        """Make every unpacked file's folder entry durable."""
        for folder in self.folders.values():
            for path in (folder, *(p for p in folder.rglob("*") if p.is_dir())):
                fsync_dir(path)

    def commit(self) -> None:
        """Move the keyring, then the instance (config.py last written), into place."""
        for prefix, target in self.targets.items():
            if target.exists():
                target.rmdir()  # checked empty; fails rather than replace anything
            os.rename(self.folders.pop(prefix), target)
            fsync_dir(target.parent)
