"""A throwaway PostgreSQL server for the test suite: a unix socket only, trust auth, fsync off.

`make test` installs Debian's `postgresql` package when it is missing (as it
does Chromium); this module finds its binaries (on PATH, or under
/usr/lib/postgresql/<version>/bin where Debian keeps them), runs `initdb` and
`pg_ctl start` in a fresh temporary folder, and stops and removes it at the end.

initdb refuses to run as root: when the suite runs as root (as CI does here),
the server runs as Debian's `postgres` account (or `nobody` if that account is
missing) through `runuser`, in a folder that account owns. Clients connect over
the socket with trust authentication, as the server's superuser `intake_test`.

Each test that needs a database gets a fresh one, copied from a template that
was migrated once per session (CREATE DATABASE ... TEMPLATE is a file copy); an
initialised instance's database is copied the same way from one set up once per
session (tests/conftest.py).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "intake_test"
TEMPLATE = "intake_template"
# Durability is not what these tests check on PostgreSQL; fsync off keeps CREATE DATABASE cheap.
SERVER_OPTIONS = ("-c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")


def binaries() -> Path | None:
    """Return the folder holding initdb, pg_ctl and postgres, or None if none is installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    return versions[-1].parent if versions else None


def _server_account() -> pwd.struct_passwd | None:
    """Return the account the server runs as when we are root; None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a postgres nor a nobody account exists "
                       "for initdb to run as")


@dataclass
class PostgresServer:
    """A running throwaway server; `url(name)` addresses one of its databases."""

    root: Path
    bindir: Path
    account: pwd.struct_passwd | None
    made: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def _run(self, *command: str) -> None:
        """Run a server program as the server's account."""
        prefix = ["runuser", "-u", self.account.pw_name, "--"] if self.account else []
        done = subprocess.run([*prefix, *command], capture_output=True, cwd=self.root,
                              check=False)
        if done.returncode:
            raise RuntimeError(f"{Path(command[0]).name} failed: "
                               f"{done.stderr.decode(errors='replace')[-1000:]}")

    def start(self) -> None:
        """Create the cluster and start it on the socket only."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-s",
                  "-l", str(self.root / "server.log"),
                  "-o", f"{SERVER_OPTIONS} -k {self.socket_dir}", "start")

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-s",
                      "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of one database on this server."""
        return (f"postgresql+psycopg://{SUPERUSER}@/{database}"
                f"?host={self.socket_dir}")

    def execute(self, *statements: str) -> None:
        """Run statements outside any transaction (CREATE and DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), user=SUPERUSER, dbname="postgres",
                             autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[arg-type]

    def make_template(self) -> None:
        """Create the template database and migrate it to the newest revision."""
        from intake.store.db import make_engine, upgrade

        self.execute(f"CREATE DATABASE {TEMPLATE}")
        engine = make_engine(self.url(TEMPLATE))
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def new_database(self, *, migrated: bool = True, template: str | None = None) -> str:
        """Create a fresh database (a copy of `template`, else of the migrated template, or
        empty); return its URL."""
        name = f"t_{secrets.token_hex(8)}"
        template = template or (TEMPLATE if migrated else "template0")
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        self.made.append(name)
        return self.url(name)

    def freeze(self, url: str) -> str:
        """Make a database made by new_database a template no one can connect to; return its
        name. CREATE DATABASE ... TEMPLATE refuses a source anyone is connected to."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        self.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false",
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN "
                     "(SELECT datname FROM pg_database WHERE NOT datallowconn)")
        self.made.remove(name)
        return name

    def drop(self, url: str) -> None:
        """Drop a database made by new_database, ending whatever is still connected to it."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made.remove(name)


def start_server() -> PostgresServer:
    """Start a throwaway server in a new private folder, with its migrated template."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server programs are not installed: "
                           "run `make test` (it installs Debian's postgresql package)")
    account = _server_account()
    # Under /tmp when the server runs as another account: a TMPDIR inside root's home
    # would not let that account reach its own folder.
    root = Path(tempfile.mkdtemp(prefix="intake-pg-", dir="/tmp" if account else None))
    (root / "socket").mkdir()
    if account is not None:
        for folder in (root, root / "socket"):
            os.chown(folder, account.pw_uid, account.pw_gid)
    server = PostgresServer(root, bindir, account)
    try:
        server.start()
        server.make_template()
    except BaseException:
        log = root / "server.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        server.stop()
        raise RuntimeError(f"the test PostgreSQL server did not start: {detail}") from None
    return server


def table_files(url: str) -> bytes:
    """Return what a seized disk holds of one database's tables and indexes (not its WAL).

    A checkpoint first writes every changed page from the server's memory to the files.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with psycopg.connect(host=parsed.query["host"], user=parsed.username,
                         dbname=parsed.database, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        row = connection.execute("SELECT oid, current_setting('data_directory') FROM "
                                 "pg_database WHERE datname = current_database()").fetchone()
    assert row is not None
    folder = Path(row[1]) / "base" / str(row[0])
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file())
