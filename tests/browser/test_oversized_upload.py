"""A family sends a file over the limit through Chromium and the real server, and reads why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.family import send
from tests.browser.test_submit_flow import fill_everything
from tests.live import LiveServer, initialise, start

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving an instance whose upload limit is 1 MiB."""
    root = tmp_path_factory.mktemp("small-limit")
    server = start(root, initialise(root) | {"INTAKE_MAX_CONTENT_LENGTH": str(1024 * 1024)})
    yield server
    server.stop()


def test_a_file_over_the_limit_shows_the_413_page_in_persian_not_a_reset(
        small_limit_server: LiveServer, new_page: Callable[..., Page], output_dir: Path,
        tmp_path: Path) -> None:
    """Over the limit, a browser still sending saw "connection reset" instead of the page.

    On loopback, Chromium reads an early answer even when the server closes with the
    body unread, so this shows what the family reads; whether the server reads the
    body before answering is tested with a raw socket in tests/test_server.py.
    """
    big = tmp_path / "فیلم.bin"
    big.write_bytes(b"x" * (1024 * 1024 * 3 // 2))
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(small_limit_server.url + "/submit")
    page.click("button:has-text('ادامه بدون کد') >> nth=0")
    fill_everything(page, [big])
    send(page)
    assert page.get_attribute("html", "dir") == "rtl"
    assert "بزرگ‌تر از حدی است" in page.inner_text("p.error")
    page.screenshot(path=str(output_dir / "too-large-fa.png"), full_page=True)
