"""SQLite (or PostgreSQL) through SQLAlchemy 2, migrated with Alembic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

from intake.crypto.files import make_private_dirs
from intake.store.write_queue import connection_class

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """The declarative base every model derives from."""


# Every PostgreSQL session commits durably (a server may default to synchronous_commit=off,
# which acknowledges a commit before it is on disk) and waits for a lock at most as long as
# SQLite's busy_timeout below, whatever the server's own settings say.
POSTGRESQL_OPTIONS = "-c synchronous_commit=on -c lock_timeout=10000"
# How long a write waits for the writers before it in its own process (write_queue.py);
# then at most busy_timeout for another process's. Past both, the family is told the
# service is busy and gets its form back (never a 500).
WRITE_QUEUE_SECONDS = 20.0


# SQLITE_BUSY and SQLITE_LOCKED (an extended code's low byte), and PostgreSQL's
# lock_not_available (lock_timeout ran out).
_SQLITE_BUSY_CODES = (5, 6)
_POSTGRESQL_BUSY_STATES = ("55P03",)


class DatabaseBusy(Exception):
    """Other writers held the database past every bound; nothing of this write was stored."""


def is_busy(error: DBAPIError) -> bool:
    """Say whether a database error is a lock wait that ran out, on SQLite or PostgreSQL."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY_CODES
    return getattr(error.orig, "sqlstate", None) in _POSTGRESQL_BUSY_STATES


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, secure_delete, foreign keys and full sync."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        make_private_dirs(path.parent)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        # Writers queue in arrival order instead of racing in SQLite's busy handler.
        connect_args["factory"] = connection_class(str(path.resolve()), WRITE_QUEUE_SECONDS)
    if url.startswith("postgresql"):
        return create_engine(url, connect_args={"options": POSTGRESQL_OPTIONS},
                             pool_pre_ping=True)
    engine = create_engine(url, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # secure_delete overwrites deleted content; synchronous=FULL makes every
    # commit durable before a family is told their testimony was received.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "secure_delete=ON", "foreign_keys=ON",
                   "synchronous=FULL", "busy_timeout=10000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema up to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # A migration that rebuilds a parent table (SQLite's way to change a
            # table) would trip the foreign keys of its children midway; SQLite's
            # documented procedure turns them off outside the transaction and
            # checks every reference before committing.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left a reference to a missing row")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def vacuum(engine: Engine, tables: tuple[str, ...]) -> None:
    """Rewrite these PostgreSQL tables (and their TOAST and indexes) without dead row versions.

    An UPDATE or DELETE leaves the old row in the table file; a plain VACUUM marks its
    space free but leaves its bytes there (seen in tests: a closed code's public key in
    the TOAST table). VACUUM FULL writes new files holding live rows only; the old ones
    are emptied at once and unlinked at the next checkpoint. It locks the tables while it
    runs (well under a second for thousands of cases): if requests keep them longer than
    lock_timeout, a plain VACUUM runs instead and the bytes wait for the next rewrite.
    """
    for full in (True, False):
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(f"VACUUM {'FULL ' if full else ''}{', '.join(tables)}")
            return
        except OperationalError:
            if not full:
                raise
