"""In Chromium: invite, enrol, vet, read, revoke, rotate; everyone left reads every case."""

from __future__ import annotations

import base64
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from playwright.sync_api import Page

from tests.browser.test_review_flow import family_submits, totp_code
from tests.live import ADMIN_PASSPHRASE, INTAKE, LiveServer, initialise, start

pytestmark = pytest.mark.browser
NEW = "sima's own long passphrase"


@pytest.fixture
def server(tmp_path: Path) -> LiveServer:
    """A server of its own: this test rotates its keys."""
    root = tmp_path / "server"
    live = start(root, initialise(root), workers=1)
    yield live  # type: ignore[misc]
    live.stop()


def log_in(page: Page, server: LiveServer, name: str, passphrase: str) -> None:
    page.goto(server.url + "/review/login")
    page.fill("[name=name]", name)
    page.fill("[name=passphrase]", passphrase)
    page.fill("[name=code]", totp_code(server, name))
    page.click("button[type=submit]")


def test_invite_enrol_vet_revoke_rotate(server: LiveServer, new_page: Callable[..., Page],
                                        tmp_path: Path, output_dir: Path) -> None:
    document = tmp_path / "old.txt"
    document.write_bytes(b"before rotation")
    family_submits(new_page(), server, document)
    admin = new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, server, "admin", ADMIN_PASSPHRASE)
    admin.goto(server.url + "/admin/")
    admin.fill("form[action$='/invite'] [name=name]", "sima")
    admin.click("form[action$='/invite'] button")
    link = re.sub(r"^http://[^/]+", "", admin.inner_text("section.code-box code"))

    sima = new_page()
    sima.goto(server.url + link)
    secret = re.search(r"secret=([A-Z2-7]+)", sima.content()).group(1)  # type: ignore[union-attr]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    sima.fill("[name=passphrase]", NEW)
    sima.fill("[name=confirm]", NEW)
    sima.fill("[name=code]", TOTP(key, 6, SHA1(), 30).generate(time.time()).decode())  # noqa: S303
    sima.click("button[type=submit]")
    log_in(sima, server, "sima", NEW)
    assert "زهرا کریمی" not in sima.content()

    admin.goto(server.url + "/admin/")
    admin.click("form[action$='/grant'] button")
    log_in(sima, server, "sima", NEW)
    assert "زهرا کریمی" in sima.content()
    admin.screenshot(path=str(output_dir / "admin.png"), full_page=True)

    admin.goto(server.url + "/admin/")
    sima_row = admin.locator("tr", has_text="sima")
    sima_row.locator("form[action$='/revoke'] button").click()
    sima.goto(server.url + "/review/")
    assert sima.url.endswith("/review/login")

    rotated = subprocess.run(
        [INTAKE, "keys", "rotate", "--admin", "admin", "--passphrase-stdin", "--settle-seconds",
         "0"], input=ADMIN_PASSPHRASE + "\n", text=True, capture_output=True, env=server.env,
        timeout=120, check=False)
    assert rotated.returncode == 0, rotated.stderr
    family_submits(new_page(), server, document)
    log_in(admin, server, "admin", ADMIN_PASSPHRASE)
    assert admin.locator("text=زهرا کریمی").count() == 2
    assert "Cannot be decrypted" not in admin.content()
    epochs = server.keys / "desks" / "main" / "epochs"
    assert list((epochs / "1").rglob("*.grant")) == []
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    assert database.execute("select distinct epoch_id from submissions").fetchall() == [(2,)]
    database.close()
