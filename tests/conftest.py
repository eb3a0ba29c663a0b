"""Fixtures shared by the whole suite: a migrated instance, its app, client and CLI runner.

Every test that uses the `instance` fixture (and so `app`, `client` and
`runner`) runs twice: on SQLite, and on a fresh database of a throwaway
PostgreSQL server (tests/pg.py) started once per session. A test about a
property only SQLite has is marked `sqlite_only` with its reason, and a
PostgreSQL counterpart `postgresql_only`.
INTAKE_TEST_BACKENDS=sqlite runs the SQLite half alone.

Setting up an instance (migrations, keys, two accounts with grants) is done once
per session and backend; each test gets its own copy of the folder, keyring and
database, so the tests share the set-up's keys and secrets, never their files.
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from intake import create_app
from intake.desk.setup import Initialised, initialise
from tests.pg import PostgresServer, start_server, table_files

# Instances that tests start in other processes (`intake init`, gunicorn) may use
# the cheap Argon2 profile too; outside a test suite it is refused.
os.environ["INTAKE_INSECURE_TEST_PROFILES"] = "true"

ADMIN_PASSPHRASE = "admin passphrase for tests"
REVIEWER_PASSPHRASE = "reviewer passphrase for tests"
BACKENDS = tuple(os.environ.get("INTAKE_TEST_BACKENDS", "sqlite,postgresql").split(","))


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker of tests about a property only SQLite has."""
    config.addinivalue_line("markers", "sqlite_only(reason): a property only SQLite has")
    config.addinivalue_line("markers", "postgresql_only: a PostgreSQL counterpart")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that needs a database once per backend (SQLite alone if so marked)."""
    if "backend" not in metafunc.fixturenames:
        return
    only = ("sqlite" if metafunc.definition.get_closest_marker("sqlite_only") else
            "postgresql" if metafunc.definition.get_closest_marker("postgresql_only") else None)
    metafunc.parametrize("backend", [b for b in BACKENDS if only in (None, b)])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole session, stopped at the end."""
    if "postgresql" not in BACKENDS:
        pytest.skip("INTAKE_TEST_BACKENDS leaves PostgreSQL out")
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The test's database: None for SQLite's file in the instance, else a fresh PostgreSQL one."""
    if backend == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    try:
        yield url
    finally:
        # A streamed response the test client never closed still holds its request's session
        # and pooled connection; finalise them while the database exists, not later inside
        # some other test, where the failed rollback's logged traceback, formatted while
        # another `ast.parse` runs, hits CPython 3.11's "AST constructor recursion depth
        # mismatch". gunicorn always closes a response, so the server holds none of these.
        gc.collect()
        server.drop(url)


def stored_bytes(app: Flask) -> bytes:
    """What a seized disk holds of the app's database: SQLite's file with its -wal and -shm,
    or PostgreSQL's table and index files (its WAL is a stated limit, see SECURITY.md)."""
    url = app.config.get("DATABASE_URL")
    if url:
        return table_files(url)
    folder = app.extensions["intake.settings"].instance_path
    return b"".join(path.read_bytes() for path in sorted(folder.glob("intake.sqlite3*")))


@dataclass
class Instance:
    """A temporary instance folder and keyring, and what set-up printed."""

    instance_path: Path
    keys_dir: Path
    config: dict[str, object]
    initialised: Initialised | None = None
    # What a recipe (below) added to the set-up and tests read back: tests/desks, desk roots.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL database's URL, or None for SQLite's file in the instance folder."""
        url = self.config.get("DATABASE_URL")
        return str(url) if url else None


@pytest.fixture
def empty_database(backend: str, request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Return a function that points INTAKE_DATABASE_URL at a new, empty PostgreSQL database
    (where a restore goes); on SQLite it does nothing (a restore makes the file)."""
    made: list[str] = []

    def point() -> None:
        if backend == "postgresql":
            server: PostgresServer = request.getfixturevalue("postgres")
            made.append(server.new_database(migrated=False))
            monkeypatch.setenv("INTAKE_DATABASE_URL", made[-1])

    yield point  # type: ignore[misc]
    for url in made:
        request.getfixturevalue("postgres").drop(url)


def instance_config(root: Path, database_url: str | None = None) -> dict[str, object]:
    """Return a test configuration (cheap Argon2 profile, plain-HTTP cookies)."""
    database = {"DATABASE_URL": database_url} if database_url else {}
    return {
        **database,
        "INSTANCE_PATH": str(root / "instance"),
        "KEYS_DIR": str(root / "keys"),
        "SECRET_KEY": secrets.token_hex(32),
        "PEPPER": secrets.token_hex(32),
        "KDF_PROFILE": "insecure-test-only",
        "CODE_KDF_PROFILE": "insecure-test-only",
        "INSECURE_TEST_PROFILES": True,
        "DISK_FLOOR_BYTES": 1024 * 1024,
        "ROTATION_SETTLE_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": True,
    }


# Steps a folder of tests adds to the set-up of every instance it is given, by name: run once
# per session on an initialised instance, they return what `Instance.extra` holds.
Recipe = tuple[str, Callable[[Instance], dict[str, Any]]]


def set_up(root: Path, database_url: str | None) -> Instance:
    """Initialise an instance with an admin and a reviewer, both granted the first epoch."""
    config = instance_config(root, database_url)
    inst = Instance(root / "instance", root / "keys", config)
    app = create_app(dict(config))
    inst.initialised = initialise(app.extensions["intake.settings"], [
        ("admin", "admin", ADMIN_PASSPHRASE), ("reviewer", "reviewer", REVIEWER_PASSPHRASE)])
    app.extensions["intake.db"].dispose()
    # As `intake init` writes it into config.py: the root the server checks the keyring against.
    config["ROOT_FINGERPRINT"] = inst.initialised.root_text
    return inst


def copy_instance(made: Instance, root: Path, database_url: str | None) -> Instance:
    """Copy an instance's folder and keyring under `root`, on `database_url` if PostgreSQL.

    Nothing in the folder, keyring or database names where they are: the two paths in
    the configuration are all that is rewritten.
    """
    for source, name in ((made.instance_path, "instance"), (made.keys_dir, "keys")):
        # copy, not copy2: the copies' times are the test's, as a fresh set-up's would be.
        shutil.copytree(source, root / name, copy_function=shutil.copy)
    config = {**made.config, "INSTANCE_PATH": str(root / "instance"),
              "KEYS_DIR": str(root / "keys")}
    config.pop("DATABASE_URL", None)
    if database_url:
        config["DATABASE_URL"] = database_url
    return replace(made, instance_path=root / "instance", keys_dir=root / "keys", config=config,
                   initialised=copy.deepcopy(made.initialised), extra=copy.deepcopy(made.extra))


class SetUps:
    """Instances set up once per session, per recipe, backend and day, for tests to copy."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.made: dict[tuple[str, str, dt.date], tuple[Instance, str | None]] = {}

    def get(self, recipe: Recipe | None, backend: str,
            server: PostgresServer | None) -> tuple[Instance, str | None]:
        """Return the set-up and its PostgreSQL template's name, making them if need be."""
        # By day: set-up stamps accounts and the first epoch with today's date.
        key = (recipe[0] if recipe else "", backend, dt.date.today())
        if key not in self.made:
            self.made[key] = self.make(recipe, backend, server)
        return self.made[key]

    def make(self, recipe: Recipe | None, backend: str,
             server: PostgresServer | None) -> tuple[Instance, str | None]:
        """Set up an instance (on a copy of the plain set-up, if a recipe adds to it)."""
        root = self.factory.mktemp(f"set-up-{recipe[0] if recipe else 'plain'}-{backend}")
        if recipe is None:
            made = set_up(root, server.new_database() if server else None)
        else:
            plain, template = self.get(None, backend, server)
            made = copy_instance(plain, root, server.new_database(template=template)
                                 if server else None)
            made.extra = recipe[1](made)
        if server is None:
            # Fold the write-ahead log into the file: a copy is then the one file, whole.
            with closing(sqlite3.connect(made.instance_path / "intake.sqlite3")) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return made, None
        return made, server.freeze(str(made.database_url))


@pytest.fixture(scope="session")
def set_ups(tmp_path_factory: pytest.TempPathFactory) -> SetUps:
    """The session's set-up instances, made when a test first needs one."""
    return SetUps(tmp_path_factory)


@pytest.fixture
def instance_recipe() -> Recipe | None:
    """What a folder of tests adds to the set-up: nothing here (tests/desks adds desks)."""
    return None


@pytest.fixture
def instance(tmp_path: Path, backend: str, request: pytest.FixtureRequest, set_ups: SetUps,
             instance_recipe: Recipe | None) -> Iterator[Instance]:
    """An initialised instance with an admin and a reviewer, both granted the first epoch:
    a copy of the session's set-up, its files and database the test's own."""
    server: PostgresServer | None = (request.getfixturevalue("postgres")
                                     if backend == "postgresql" else None)
    made, template = set_ups.get(instance_recipe, backend, server)
    url = server.new_database(template=template) if server else None
    try:
        yield copy_instance(made, tmp_path, url)
    finally:
        if server and url:
            # As in `database_url`: finalise unclosed streamed responses while the database
            # exists.
            gc.collect()
            server.drop(url)


@pytest.fixture
def app(instance: Instance) -> Flask:
    """The application for the test instance."""
    return create_app(dict(instance.config))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()
