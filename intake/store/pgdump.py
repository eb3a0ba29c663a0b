"""PostgreSQL's side of backups: `pg_dump` into the backup, `pg_restore` out of it, both checked.

pg_dump reads the whole database in one repeatable-read transaction, so the
dump is one consistent snapshot while the server keeps taking testimonies
(as SQLite's online backup is). A dump is a list of SQL statements that
pg_restore runs as the role DATABASE_URL names, so a restore first lists the
archive's entries and refuses any kind of object an intake database does not
hold (functions, triggers, views, rules, extensions...), restores into an
empty database in one transaction, checks again what it made, and empties
the database again if anything fails.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

DUMP = "instance/intake.pgdump"
# The kinds of entry pg_dump writes for intake's schema, and nothing else.
ALLOWED = frozenset({"TABLE", "TABLE DATA", "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET",
                     "DEFAULT", "CONSTRAINT", "FK CONSTRAINT", "INDEX"})
_ENTRY = re.compile(r"\d+; \d+ \d+ (?P<described>.+)")


class DumpError(Exception):
    """pg_dump or pg_restore failed, or the dump holds what an intake database does not."""


def is_postgresql(url: str | None) -> bool:
    """Say whether a database URL names PostgreSQL."""
    return bool(url) and make_url(str(url)).get_backend_name() == "postgresql"


def _environment(url: str) -> dict[str, str]:
    """Return libpq's variables for the URL (the password never on a command line)."""
    parsed = make_url(url)
    # A PG* variable left in the operator's shell must not send the dump elsewhere.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    host = parsed.query.get("host", parsed.host)
    values = {"PGHOST": host, "PGPORT": parsed.port, "PGUSER": parsed.username,
              "PGPASSWORD": parsed.password, "PGDATABASE": parsed.database}
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _run(command: list[str], url: str | None) -> str:
    """Run a PostgreSQL client program; return its output or raise DumpError."""
    try:
        # Fixed program names; the arguments are paths and options this module made.
        done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                              env=_environment(url) if url else None)
    except FileNotFoundError:
        raise DumpError(f"{command[0]} is not installed (Debian's postgresql-client has it)") \
            from None
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        raise DumpError(f"{command[0]} failed: {lines[-1] if lines else done.returncode}")
    return done.stdout


def dump(url: str, target: Path) -> None:
    """Write a consistent custom-format dump of the database to `target` (a new file)."""
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--no-comments",
          "--file", str(target)], url)
    os.chmod(target, 0o600)


def entries(path: Path) -> list[tuple[str, str]]:
    """List the dump's entries as (kind, name) in schema public, refusing any other kind."""
    listed = []
    for line in _run(["pg_restore", "--list", str(path)], None).splitlines():
        if not line or line.startswith(";"):
            continue
        match = _ENTRY.fullmatch(line)
        described = match["described"] if match else ""
        # Longest first: "TABLE DATA" is not a "TABLE", nor "SEQUENCE SET" a "SEQUENCE".
        kind = next((k for k in sorted(ALLOWED, key=len, reverse=True)
                     if described.startswith(f"{k} public ")), None)
        if kind is None:
            raise DumpError("the backup's database holds what an intake database does not")
        listed.append((kind, described.removeprefix(f"{kind} public ").split(" ")[0]))
    return listed


def is_empty(engine: Engine) -> bool:
    """Say whether the database holds no table, view, sequence or function of its own."""
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'")).scalar_one()
        functions = connection.execute(text(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')")).scalar_one()
    return bool(found == 0 and functions == 0)


def restore(path: Path, url: str, engine: Engine) -> None:
    """Load the dump into the (empty) database in one transaction, then check what it made."""
    entries(path)
    _run(["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner",
          "--no-privileges", "--dbname", make_url(url).database or "", str(path)], url)
    check_restored(engine)


def check_restored(engine: Engine) -> None:
    """Refuse a database holding triggers, rules (views), or functions of its own."""
    with engine.connect() as connection:
        extras = connection.execute(text(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)"
            " + (SELECT count(*) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class"
            "    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')"
            " + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            "    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))")).scalar_one()
    if extras:
        raise DumpError("the backup's database holds what an intake database does not")


def empty(engine: Engine) -> None:
    """Drop every table and sequence a failed restore made (the database was empty before)."""
    with engine.begin() as connection:
        names = inspect(connection).get_table_names()
        for name in names:
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        for (name,) in connection.execute(text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")):
            connection.execute(text(f'DROP SEQUENCE IF EXISTS "{name}" CASCADE'))
