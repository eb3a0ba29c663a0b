"""Start the real server (`intake serve`, gunicorn) against a temporary instance."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INTAKE = str(Path(sys.executable).parent / "intake")
ADMIN_PASSPHRASE = "live admin passphrase"


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
        """Every file the server could have written: instance, keyring and its temp dir."""
        return [p for folder in (self.instance, self.keys, self.tmp)
                for p in folder.rglob("*") if p.is_file()]

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


def initialise(root: Path) -> dict[str, str]:
    """Run `intake init` for a temporary instance and return the environment serving it."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "INTAKE_INSTANCE": str(root / "instance"), "INTAKE_KEYS_DIR": str(root / "keys"),
        "INTAKE_KDF_PROFILE": "insecure-test-only",
        "INTAKE_CODE_KDF_PROFILE": "insecure-test-only",
        "INTAKE_SESSION_COOKIE_SECURE": "false", "INTAKE_DISK_FLOOR_BYTES": "1048576",
        "TMPDIR": str(root / "tmp"),
    }
    subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                   input=ADMIN_PASSPHRASE.encode() + b"\n", env=env, check=True,
                   capture_output=True, timeout=60)
    return env


def start(root: Path, env: dict[str, str], workers: int = 1) -> LiveServer:
    """Serve the instance with gunicorn on a free loopback port and wait until it answers."""
    port = _free_port()
    with (root / "serve.log").open("ab") as out:
        process = subprocess.Popen(
            [INTAKE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
             str(workers)], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
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
