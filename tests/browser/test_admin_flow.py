"""In Chromium: invite, enrol, vet, read, revoke, rotate; everyone left reads every case."""

from __future__ import annotations

import base64
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.test_review_flow import earliest_code, family_submits, totp_code
from tests.browser.test_submit_flow import assert_marker_nowhere
from tests.live import (
    ADMIN_PASSPHRASE,
    INTAKE,
    REVIEWER_PASSPHRASE,
    LiveServer,
    initialise,
    start,
)
from tests.submit.conftest import MARKER

pytestmark = pytest.mark.browser
NEW = "sima's own long passphrase"
NAME = "زهرا کریمی"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own, with a vetted reviewer who stays: this test rotates its keys."""
    root = tmp_path / "server"
    live = start(root, initialise(root, reviewers=("dara",)), workers=1)
    yield live
    live.stop()


def log_in(page: Page, server: LiveServer, name: str, passphrase: str) -> None:
    page.goto(server.url + "/review/login")
    page.fill("[name=name]", name)
    page.fill("[name=passphrase]", passphrase)
    page.fill("[name=code]", totp_code(server, name))
    page.click("button[type=submit]")
    page.wait_for_load_state()  # the page the login opens, loaded before it is read


def case_ids(server: LiveServer) -> list[str]:
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    ids = [row[0] for row in database.execute("select id from submissions")]
    database.close()
    return ids


def assert_signed_in_seeing_no_case(page: Page, server: LiveServer) -> None:
    """The login worked (the server keeps the session), yet no case shows at all."""
    page.goto(server.url + "/review/")
    assert not page.url.endswith("/review/login")
    assert page.locator("input[name=passphrase]").count() == 0
    assert page.locator("form[action$='/review/logout']").count() == 1
    content = page.content()
    assert NAME not in content
    assert MARKER not in content
    assert all(case_id not in content for case_id in case_ids(server))


def assert_reads_case(page: Page, server: LiveServer, case_id: str, attachment: Path) -> None:
    """Open a case: its name shows and its attachment downloads intact."""
    page.goto(f"{server.url}/review/{case_id}")
    assert NAME in page.inner_text("h1")
    with page.expect_download() as download:
        page.click(f"text={attachment.name}")
    assert Path(download.value.path()).read_bytes() == attachment.read_bytes()


def enrol(page: Page, server: LiveServer, link: str, passphrase: str) -> str:
    """Enrol from the link; return the fingerprint groups the new account is shown."""
    page.goto(server.url + link)
    secret = re.sub(r"\s", "", page.locator("code.secret").inner_text())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("[name=passphrase]", passphrase)
    page.fill("[name=confirm]", passphrase)
    page.fill("[name=code]", earliest_code(key, 0))
    page.click("button[type=submit]")
    return page.locator("code.fingerprint").inner_text()


def test_invite_enrol_vet_revoke_rotate(server: LiveServer, new_page: Callable[..., Page],
                                        tmp_path: Path, output_dir: Path) -> None:
    old_file, new_file = tmp_path / "old.txt", tmp_path / "new.txt"
    old_file.write_bytes(b"before rotation")
    new_file.write_bytes(b"after rotation")
    family_submits(new_page(), server, old_file)
    [old_case] = case_ids(server)
    admin = new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, server, "admin", ADMIN_PASSPHRASE)
    admin.goto(server.url + "/admin/")
    admin.fill("form[action$='/invite'] [name=name]", "sima")
    admin.click("form[action$='/invite'] button")
    link = re.sub(r"^http://[^/]+", "", admin.inner_text("section.code-box code"))

    sima = new_page()
    shown = enrol(sima, server, link, NEW)
    log_in(sima, server, "sima", NEW)
    assert_signed_in_seeing_no_case(sima, server)

    admin.goto(server.url + "/admin/")
    # Sima reads the first three groups of what she was shown to the admin, who types them.
    row = admin.locator("tr", has_text="sima")
    row.locator("form[action$='/grant'] [name=fingerprint]").fill(" ".join(shown.split("-")[:3]))
    row.locator("form[action$='/grant'] button").click()
    log_in(sima, server, "sima", NEW)
    assert_reads_case(sima, server, old_case, old_file)
    admin.screenshot(path=str(output_dir / "admin.png"), full_page=True)

    admin.goto(server.url + "/admin/")
    admin.locator("tr", has_text="sima").locator("a[href$='/revoke']").click()
    admin.check("[name=confirmed]")
    admin.click("form[action$='/revoke'] button")
    sima.goto(server.url + "/review/")
    assert sima.url.endswith("/review/login")

    old_grants = server.keys / "desks" / "main" / "epochs" / "1" / "grants"
    sealed_old = [p.read_bytes() for p in old_grants.iterdir()]
    assert len(sealed_old) == 3  # admin, dara and the recovery key; sima's went at revocation
    rotated = subprocess.run(
        [INTAKE, "keys", "rotate", "--admin", "admin", "--passphrase-stdin", "--settle-seconds",
         "0"], input=ADMIN_PASSPHRASE + "\n", text=True, capture_output=True, env=server.env,
        timeout=120, check=False)
    assert rotated.returncode == 0, rotated.stderr
    family_submits(new_page(), server, new_file)
    [new_case] = [case_id for case_id in case_ids(server) if case_id != old_case]

    dara = new_page()
    log_in(dara, server, "dara", REVIEWER_PASSPHRASE)
    assert dara.locator(f"text={NAME}").count() == 2
    assert_reads_case(dara, server, old_case, old_file)
    assert_reads_case(dara, server, new_case, new_file)
    log_in(admin, server, "admin", ADMIN_PASSPHRASE)
    assert admin.locator(f"text={NAME}").count() == 2
    assert "Cannot be decrypted" not in admin.content()

    assert not old_grants.exists() or list(old_grants.iterdir()) == []
    keyring_files = [p.read_bytes() for p in server.keys.rglob("*") if p.is_file()]
    assert not any(grant in content for grant in sealed_old for content in keyring_files)
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    assert database.execute("select distinct epoch_id from submissions").fetchall() == [(2,)]
    database.close()
    assert_marker_nowhere(server, NAME, "before rotation", "after rotation")
