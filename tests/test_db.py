"""The database: real SQLite, real migrations, WAL and secure_delete."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import inspect, text

from intake.db import upgrade
from intake.models import User


def test_migrations_create_the_schema(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    tables = set(inspect(engine).get_table_names())
    assert {"users", "submissions", "alembic_version"} <= tables


def test_migrating_twice_changes_nothing(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    upgrade(engine)
    with engine.connect() as connection:
        version = connection.execute(text("select version_num from alembic_version")).scalar()
    assert version == "0007_family"


def test_sqlite_runs_in_wal_mode_with_secure_delete(app: Flask) -> None:
    with app.extensions["intake.db"].connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"
        assert connection.execute(text("pragma secure_delete")).scalar() == 1
        assert connection.execute(text("pragma synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


def test_database_file_is_private_to_its_owner(app: Flask) -> None:
    path = app.extensions["intake.settings"].instance_path / "intake.sqlite3"
    assert path.stat().st_mode & 0o077 == 0


def test_initialised_users_are_stored(app: Flask) -> None:
    from intake.db import get_session

    with app.app_context():
        names = {u.name: u.role for u in get_session().query(User)}
    assert names == {"admin": "admin", "reviewer": "reviewer"}
