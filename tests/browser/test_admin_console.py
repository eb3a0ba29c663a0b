"""The admin console in Chromium, without JavaScript: pending links, the enrolment secret left
to right on the Persian page, revocation's confirm step with the rotation offered in place, and
a rotation's progress and end; screenshots at phone and desktop width in both languages."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.test_workbench import family_sends, log_in
from tests.live import ADMIN_PASSPHRASE, LiveServer, initialise, start

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/console-shots")
WIDTHS = (360, 1280)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own (its rotation ends every session), two workers, and a settle time
    long enough to watch a rotation under way."""
    root = tmp_path_factory.mktemp("console")
    env = initialise(root, reviewers=("reviewer",)) | {"INTAKE_ROTATION_SETTLE_SECONDS": "20"}
    live = start(root, env, workers=2)
    yield live
    live.stop()


def shoot(page: Page, url: str, name: str, output_dir: Path) -> None:
    """Screenshot `url` in both languages at phone and desktop width; nothing scrolls sideways."""
    SHOTS.mkdir(exist_ok=True)
    for lang in ("en", "fa"):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, lang)
            shot = output_dir / f"console-{name}-{lang}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, SHOTS / shot.name)


def test_pending_links_and_the_persian_enrolment_secret(
        server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    """The otpauth:// address broke apart right to left on the Persian enrolment page."""
    admin = new_page(viewport={"width": 1280, "height": 800})
    log_in(admin, server, "admin")
    admin.goto(server.url + "/admin/?lang=en")
    admin.fill("form[action$='/invite'] [name=name]", "sima")
    admin.click("form[action$='/invite'] button")
    link = re.sub(r"^http://[^/]+", "", admin.inner_text("section.code-box code"))
    row = admin.locator("table.invites tr", has_text="sima")
    assert "Enrolment as Reviewer" in row.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row.inner_text())
    shoot(admin, server.url + "/admin/", "invites", output_dir)

    invitee = new_page(viewport={"width": 360, "height": 800})
    invitee.goto(f"{server.url}{link}?lang=fa")
    groups = invitee.locator("code.secret span")
    assert groups.count() == 8
    boxes = [box for i in range(8) if (box := groups.nth(i).bounding_box())]
    assert len(boxes) == 8
    # Two rows of four, each read left to right on the right-to-left page; the second row
    # starts under the first group, not under the last.
    for row in (boxes[:4], boxes[4:]):
        assert len({box["y"] for box in row}) == 1
        assert [box["x"] for box in row] == sorted(box["x"] for box in row)
    assert boxes[4]["x"] == boxes[0]["x"]
    assert boxes[4]["y"] > boxes[0]["y"]
    shoot(invitee, server.url + link, "enrol", output_dir)

    admin.goto(server.url + "/admin/?lang=en")
    admin.locator("table.invites tr", has_text="sima").locator("button").click()
    assert admin.locator("table.invites tr", has_text="sima").count() == 0
    assert invitee.goto(server.url + link).status == 404


def test_revoke_confirms_offers_the_rotation_and_the_rotation_shows_progress_and_end(
        server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    """After "Rotate now" the page came back unchanged and the admin was silently logged out."""
    family = new_page()
    family_sends(family, server, "پروین صادقی", "Evin (اوین)")
    admin = new_page(viewport={"width": 1280, "height": 800})
    log_in(admin, server, "admin")
    admin.goto(server.url + "/admin/?lang=en")
    admin.locator("table.users tr", has_text="reviewer").locator("a[href$='/revoke']").click()
    confirm_url = admin.url.split("?")[0]
    shoot(admin, confirm_url, "revoke-confirm", output_dir)
    admin.goto(confirm_url + "?lang=en")
    admin.check("[name=confirmed]")
    admin.click("form[action$='/revoke'] button")
    offered = admin.locator("form.rotate")
    assert "every session ends, yours included" in admin.inner_text("main")
    admin.screenshot(path=str(output_dir / "console-revoked-en-1280.png"), full_page=True)
    shutil.copy(output_dir / "console-revoked-en-1280.png", SHOTS)
    offered.locator("[name=passphrase]").fill(ADMIN_PASSPHRASE)
    offered.locator("button").click()
    assert admin.url.endswith("/admin/keys?watching=1")
    assert "Rotation under way" in admin.inner_text("section.rotation-progress")
    shoot(admin, server.url + "/admin/keys?watching=1", "keys-during", output_dir)
    admin.set_viewport_size({"width": 1280, "height": 800})
    # The page reloads itself (no JavaScript) until the rotation has ended every session.
    admin.goto(server.url + "/admin/keys?watching=1&lang=en")
    admin.wait_for_url(re.compile(r"/review/login\?rotated=1$"), timeout=90_000)
    assert "The key rotation has finished" in admin.inner_text("main")
    # The passphrase box was tiny: it takes the form's width and a thumb's height.
    box = admin.locator("[name=passphrase]").bounding_box()
    assert box
    assert box["width"] >= 300
    assert box["height"] >= 40
    shoot(admin, server.url + "/review/login?rotated=1", "login-after-rotation", output_dir)
    log_in(admin, server, "admin")
    admin.goto(server.url + "/admin/keys?lang=en")
    cells = [row.locator("td").all_inner_texts()[:2]
             for row in admin.locator("table.inbox tbody tr").all()]
    assert ["2", "current"] in cells
    assert admin.locator("section.rotation-progress").count() == 0
    shoot(admin, server.url + "/admin/keys", "keys-after", output_dir)
