"""The database: real SQLite and PostgreSQL, real migrations, WAL and secure_delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from intake.store.db import MIGRATIONS, make_engine, upgrade
from intake.store.models import User
from tests.pg import PostgresServer
from tests.submit.conftest import filled_form, post_form, read_everything


def test_migrations_create_the_schema(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    tables = set(inspect(engine).get_table_names())
    assert {"users", "submissions", "alembic_version"} <= tables


def test_migrating_twice_changes_nothing(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    upgrade(engine)
    with engine.connect() as connection:
        version = connection.execute(text("select version_num from alembic_version")).scalar()
    assert version == "0017_share_requests"


@pytest.mark.sqlite_only("pragmas are SQLite's; the PostgreSQL settings are tested below")
def test_sqlite_runs_in_wal_mode_with_secure_delete(app: Flask) -> None:
    with app.extensions["intake.db"].connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"
        assert connection.execute(text("pragma secure_delete")).scalar() == 1
        assert connection.execute(text("pragma synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


@pytest.mark.sqlite_only("PostgreSQL keeps its files in its own data folder (initdb makes it 0700)")
def test_database_file_is_private_to_its_owner(app: Flask) -> None:
    path = app.extensions["intake.settings"].instance_path / "intake.sqlite3"
    assert path.stat().st_mode & 0o077 == 0


def test_initialised_users_are_stored(app: Flask) -> None:
    from intake.web.database import get_session

    with app.app_context():
        names = {u.name: u.role for u in get_session().query(User)}
    assert names == {"admin": "admin", "reviewer": "reviewer"}


def test_our_code_sets_the_sqlite_pragmas_whatever_the_build_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build whose defaults are rollback journal, no secure delete, no sync and no foreign
    keys must still get WAL, secure_delete, synchronous=FULL and foreign keys from make_engine."""
    import sqlite3

    real_connect = sqlite3.connect

    def hostile_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_connect(*args, **kwargs)
        for pragma in ("journal_mode=DELETE", "secure_delete=OFF", "synchronous=OFF",
                       "foreign_keys=OFF", "busy_timeout=0"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    # SQLAlchemy's pysqlite dialect connects through sqlite3.dbapi2.
    monkeypatch.setattr(sqlite3, "connect", hostile_connect)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", hostile_connect)
    probe = sqlite3.connect(tmp_path / "probe.sqlite3")
    # The hostile defaults really are in force on a connection our code did not touch.
    assert [probe.execute(f"pragma {name}").fetchone()[0] for name in (
        "journal_mode", "secure_delete", "synchronous", "foreign_keys", "busy_timeout",
    )] == ["delete", 0, 0, 0, 0]
    probe.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    with engine.connect() as connection:
        values = [connection.execute(text(f"pragma {name}")).scalar() for name in (
            "journal_mode", "secure_delete", "synchronous", "foreign_keys", "busy_timeout")]
    engine.dispose()
    assert values == ["wal", 1, 2, 1, 10000]


def test_our_code_makes_postgresql_commits_durable_whatever_the_server_default(
        postgres: PostgresServer) -> None:
    """The test server runs with synchronous_commit=off, which acknowledges a commit before
    it is on disk: make_engine's sessions must still commit durably, and wait for a lock
    10 s at most (as SQLite's busy_timeout), not forever."""
    import psycopg

    url = postgres.new_database()
    try:
        with psycopg.connect(host=str(postgres.socket_dir), user="intake_test",
                             dbname="postgres") as probe:
            # The server's default really is the unsafe one on a connection our code did not make.
            assert probe.execute("show synchronous_commit").fetchone() == ("off",)
            assert probe.execute("show lock_timeout").fetchone() == ("0",)
        engine = make_engine(url)
        with engine.connect() as connection:
            values = [connection.execute(text(f"show {name}")).scalar()
                      for name in ("synchronous_commit", "lock_timeout")]
        engine.dispose()
    finally:
        postgres.drop(url)
    assert values == ["on", "10s"]


FAMILY_TABLES = ("submissions", "attachments", "notes", "replies", "case_reads", "case_links")


def has_rowid(connection, table: str) -> bool:  # type: ignore[no-untyped-def]
    """Say whether SQLite still numbers the table's rows in a hidden rowid."""
    try:
        connection.execute(text(f"select rowid from {table}"))  # noqa: S608 (fixed names)
    except OperationalError:
        return False
    return True


def migrate(engine, revision: str) -> None:  # type: ignore[no-untyped-def]
    """Move the schema down to a revision, foreign keys off as intake.store.db.upgrade runs them."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def test_downgrading_and_upgrading_keeps_every_row_and_index(
        app: Flask, client: FlaskClient) -> None:
    """Every migration from 0006 up runs down and up again on a database holding cases."""
    for size in (3, 1, 2):
        post_form(client, filled_form(), [("a.txt", b"x" * size)])
    engine = app.extensions["intake.db"]
    dump = "select * from {} order by 1, 2"
    with engine.connect() as connection:
        before = {t: [dict(r) for r in connection.execute(text(dump.format(t))).mappings()]
                  for t in FAMILY_TABLES}
        indexes = {t: inspect(connection).get_indexes(t) for t in FAMILY_TABLES}
    migrate(engine, "0006")
    with engine.connect() as connection:
        assert "key_generations" not in inspect(connection).get_table_names()
    upgrade(engine)
    with engine.connect() as connection:
        assert {t: [dict(r) for r in connection.execute(text(dump.format(t))).mappings()]
                for t in FAMILY_TABLES} == before
        assert {t: inspect(connection).get_indexes(t) for t in FAMILY_TABLES} == indexes
        version = connection.execute(text("select version_num from alembic_version")).scalar()
    assert version == "0017_share_requests"
    assert len(read_everything(app)) == 3


def test_every_migration_runs_down_to_nothing_and_up_again(app: Flask) -> None:
    """An empty database: each downgrade undoes its upgrade, on either backend."""
    engine = app.extensions["intake.db"]
    with engine.begin() as connection:
        # The audit chain and the accounts hold rows the first migrations cannot drop around.
        for table in ("audit_events", "audit_head", "users"):
            connection.execute(text(f"delete from {table}"))  # noqa: S608 (fixed names)
    migrate(engine, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    with engine.connect() as connection:
        assert {"users", "submissions", "pending_files", "key_generations"} <= set(
            inspect(connection).get_table_names())


@pytest.mark.sqlite_only("PostgreSQL has no rowid; what its rows reveal is in SECURITY.md")
def test_upgrading_a_database_with_cases_drops_the_rowid_and_keeps_every_row(
        app: Flask, client: FlaskClient) -> None:
    """A seized database of 0006 numbered submissions 1, 2, 3 in arrival order."""
    for size in (3, 1, 2):
        post_form(client, filled_form(), [("a.txt", b"x" * size)])
    engine = app.extensions["intake.db"]
    dump = "select * from {} order by 1, 2"
    with engine.connect() as connection:
        before = {t: [dict(r) for r in connection.execute(text(dump.format(t))).mappings()]
                  for t in FAMILY_TABLES}
        indexes = {t: inspect(connection).get_indexes(t) for t in FAMILY_TABLES}
    migrate(engine, "0006")
    with engine.connect() as connection:
        assert all(has_rowid(connection, t) for t in FAMILY_TABLES)
        assert [r for (r,) in connection.execute(text("select rowid from submissions"))] == [
            1, 2, 3]
    upgrade(engine)
    with engine.connect() as connection:
        assert not any(has_rowid(connection, t) for t in FAMILY_TABLES)
        assert {t: [dict(r) for r in connection.execute(text(dump.format(t))).mappings()]
                for t in FAMILY_TABLES} == before
        assert {t: inspect(connection).get_indexes(t) for t in FAMILY_TABLES} == indexes
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1
        assert not connection.execute(text("pragma foreign_key_check")).all()
    assert len(read_everything(app)) == 3


def test_unix_times_after_january_2038_are_kept(app: Flask) -> None:
    """PostgreSQL's integer ends at 2038-01-19 03:14:07 UTC: a session seen, an invite or a
    pending file expiring after it was refused there (SQLite's integers are 64-bit)."""
    from intake.store.models import Invite, PendingFile, ReviewSession
    from intake.web.database import get_session

    later = 2**31 + 86400
    with app.app_context():
        db = get_session()
        admin = db.query(User).filter_by(name="admin").one()
        db.add_all([
            PendingFile(id="a" * 32, form_ref="b" * 64, blob="c" * 32, record_id="d" * 32,
                        wrapped_key=b"k", meta=b"m", expires_at=later),
            Invite(token_hash="e" * 64, purpose="enrol", name="new", role="reviewer",
                   totp_secret=b"t", expires_at=later),
            ReviewSession(id_hash="f" * 64, user_id=admin.id, sealed_keys=b"s",
                          started_at=later, seen_at=later)])
        db.commit()
    with app.extensions["intake.db"].connect() as connection:
        stored = [connection.execute(text(query)).scalar() for query in (
            "select expires_at from pending_files", "select expires_at from invites",
            "select started_at from review_sessions", "select seen_at from review_sessions")]
    assert stored == [later] * 4
