"""The real server (gunicorn through `intake serve`) and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
INTAKE = str(Path(sys.executable).parent / "intake")
ADMIN_PASSPHRASE = "live admin passphrase"
OUTPUT = Path(os.environ.get("INTAKE_TEST_OUTPUT",
                             Path(__file__).resolve().parents[2] / "test-output"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]


@dataclass
class LiveServer:
    """A running `intake serve` against a temporary instance."""

    url: str
    root: Path
    instance: Path
    keys: Path
    tmp: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def written_files(self) -> list[Path]:
        """Every file the server could have written: instance, keyring and its temp dir."""
        return [p for folder in (self.instance, self.keys, self.tmp)
                for p in folder.rglob("*") if p.is_file()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"intake serve exited:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"intake serve did not start:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Initialise a temporary instance and serve it with gunicorn on a free loopback port."""
    root = tmp_path_factory.mktemp("live")
    (root / "tmp").mkdir()
    env = os.environ | {
        "INTAKE_INSTANCE": str(root / "instance"), "INTAKE_KEYS_DIR": str(root / "keys"),
        "INTAKE_KDF_PROFILE": "insecure-test-only", "INTAKE_SESSION_COOKIE_SECURE": "false",
        "TMPDIR": str(root / "tmp"),
    }
    subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                   input=ADMIN_PASSPHRASE.encode() + b"\n", env=env, check=True,
                   capture_output=True, timeout=60)
    port, log = _free_port(), root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([INTAKE, "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", "1"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, log)
        yield LiveServer(f"http://127.0.0.1:{port}", root, root / "instance", root / "keys",
                         root / "tmp", process, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, with background networking off."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts; JavaScript is off unless asked for, as in Tor's Safest."""
    contexts: list[BrowserContext] = []

    def open_page(javascript: bool = False, **options: object) -> Page:
        context = browser.new_context(java_script_enabled=javascript, **options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where screenshots for human review are saved."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
