"""The real server (gunicorn through `intake serve`) and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.live import CLIENT_USER_AGENT, LiveServer, initialise, start

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("INTAKE_TEST_OUTPUT",
                             Path(__file__).resolve().parents[2] / "test-output"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve a temporary instance (an admin and a vetted reviewer) with gunicorn on loopback."""
    root = tmp_path_factory.mktemp("live")
    server = start(root, initialise(root, reviewers=("reviewer",)), workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the session (a second sync one cannot start beside it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with background networking off."""
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts; JavaScript is off unless asked for, as in Tor's Safest.

    Every context sends CLIENT_USER_AGENT, which tests then look for in what the server wrote.
    """
    contexts: list[BrowserContext] = []

    def open_page(javascript: bool = False, **options: object) -> Page:
        options.setdefault("user_agent", CLIENT_USER_AGENT)
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
