"""Start the real server (`intake serve`, gunicorn) against a temporary instance.

The server runs with `tests/spool_probe` on PYTHONPATH: its sitecustomize keeps
every `tempfile.TemporaryFile` (Werkzeug's spool target, otherwise an unnamed
O_TMPFILE) as a named file in the server's temp dir, so a plaintext search of
the files the server wrote also covers anything it spooled.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INTAKE = str(Path(sys.executable).parent / "intake")
ADMIN_PASSPHRASE = "live admin passphrase"
REVIEWER_PASSPHRASE = "live reviewer passphrase"
# Every browser context sends this; the server must not write it (nor the client's IP) anywhere.
CLIENT_USER_AGENT = f"IntakeTestBrowser/{secrets.token_hex(8)} (must-not-be-stored)"
CLIENT_IP = "127.0.0.1"
SPOOL_PROBE = Path(__file__).resolve().parent / "spool_probe"
# Make reviewers as `intake init` makes its admin: an account granted the current
# epoch, sealed from the admin's own grant (the admin vets them at once).
_ADD_VETTED_REVIEWERS = """
import datetime, sys
from sqlalchemy.orm import Session
from intake import create_app
from intake.crypto import Keyring, open_epoch_key, unlock_account
from intake.desk.trust import signer_of
from intake.store.db import make_engine
from intake.store.models import User
from intake.desk.setup import add_granted_user
admin_passphrase, reviewer_passphrase, *names = sys.stdin.read().splitlines()
settings = create_app().extensions["intake.settings"]
keyring = Keyring(settings.keys_dir)
epoch = keyring.current_epoch(settings.desk_id)
with Session(make_engine(settings.database_url)) as db:
    admin = db.query(User).filter_by(name="admin").one()
    public, wrapped = keyring.user_key(admin.id)
    admin_keys = unlock_account(wrapped, admin.passphrase_verifier, admin_passphrase)
    admin_key = admin_keys.key
    epoch_key = open_epoch_key(keyring.grant(settings.desk_id, epoch.id, public.fingerprint),
                               admin_key, desk_id=settings.desk_id, epoch_id=epoch.id,
                               epoch_public=epoch.public_key)
    for name in names:
        add_granted_user(db, keyring, settings, epoch_key, name=name, role="reviewer",
                         passphrase=reviewer_passphrase, today=datetime.date.today(),
                         root=admin_keys.root, signer=signer_of(admin, admin_keys))
    db.commit()
"""


@dataclass
class LiveServer:
    """A running `intake serve` against a temporary instance."""

    url: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    @property
    def instance(self) -> Path:
        return self.root / "instance"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def written_files(self) -> list[Path]:
        """Every file the server could have written.

        That is everything under its root (its working directory): instance (database,
        WAL and journal, store), keyring, its temp dir with whatever it spooled, serve.log.
        """
        return [p for p in self.root.rglob("*") if p.is_file()]

    def spool_probe_active(self) -> bool:
        """Whether the server process keeps its temporary files where tests search them."""
        return (self.tmp / f"spool-probe-active.{self.process.pid}").is_file()

    def log(self) -> str:
        return (self.root / "serve.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop gracefully, as an admin would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Kill the master and every worker at once, as a crash or power cut would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def initialise(root: Path, reviewers: tuple[str, ...] = ()) -> dict[str, str]:
    """Run `intake init`, add vetted `reviewers`, and return the environment serving it."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    python_path = os.pathsep.join(filter(None, [str(SPOOL_PROBE),
                                                os.environ.get("PYTHONPATH")]))
    env = os.environ | {
        "INTAKE_INSTANCE": str(root / "instance"), "INTAKE_KEYS_DIR": str(root / "keys"),
        "INTAKE_KDF_PROFILE": "insecure-test-only",
        "INTAKE_CODE_KDF_PROFILE": "insecure-test-only",
        "INTAKE_SESSION_COOKIE_SECURE": "false", "INTAKE_DISK_FLOOR_BYTES": "1048576",
        "TMPDIR": str(root / "tmp"),
        "PYTHONPATH": python_path, "INTAKE_TEST_KEEP_TEMPFILES": str(root / "tmp"),
    }
    subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                   input=ADMIN_PASSPHRASE.encode() + b"\n", env=env, check=True,
                   capture_output=True, timeout=60, cwd=root)
    if reviewers:
        lines = [ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, *reviewers]
        subprocess.run([sys.executable, "-c", _ADD_VETTED_REVIEWERS],
                       input="\n".join(lines).encode(), env=env, check=True,
                       capture_output=True, timeout=60, cwd=root)
    return env


def start(root: Path, env: dict[str, str], workers: int = 1,
          options: tuple[str, ...] = ()) -> LiveServer:
    """Serve the instance with gunicorn on a free loopback port and wait until it answers."""
    port = _free_port()
    with (root / "serve.log").open("ab") as out:
        process = subprocess.Popen(
            [INTAKE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
             str(workers), *options], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=root)
    server = LiveServer(f"http://127.0.0.1:{port}", port, root, process, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"intake serve exited:\n{server.log()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"intake serve did not start:\n{server.log()}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
