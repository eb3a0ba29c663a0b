"""In Chromium, without JavaScript, against `intake serve`: the host adds an operator at the
shell, who enrols from its link, logs in, lands on the instance page (two desks, counts only)
and is refused the inbox; a reviewer is refused the instance page. Screenshots of the page at
phone and desktop width in both languages."""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.test_admin_flow import log_in
from tests.browser.test_review_flow import earliest_code
from tests.live import ADMIN_PASSPHRASE, INTAKE, REVIEWER_PASSPHRASE, LiveServer, initialise, start

pytestmark = pytest.mark.browser
OPERATOR_PASSPHRASE = "the host's own long passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An instance with a second desk, b, and a reviewer of the first."""
    root = tmp_path_factory.mktemp("operator")
    env = initialise(root, reviewers=("reviewer",))
    subprocess.run([INTAKE, "desks", "add", "b", "--admin", "b-admin", "--name-en",
                    "Justice for Iran desk", "--name-fa", "میز عدالت برای ایران",
                    "--description-en", "Documents executions for legal cases.",
                    "--description-fa", "اعدام‌ها را برای پرونده‌های حقوقی ثبت می‌کند.",
                    "--passphrase-stdin"], input=ADMIN_PASSPHRASE.encode() + b"\n", env=env,
                   check=True, capture_output=True, timeout=60, cwd=root)
    live = start(root, env, workers=1)
    yield live
    live.stop()


def add_operator(server: LiveServer) -> str:
    """`intake users add host --role operator` at the host's shell; return the link's path."""
    added = subprocess.run([INTAKE, "users", "add", "host", "--role", "operator"],
                           env=server.env, check=True, capture_output=True, text=True,
                           timeout=60, cwd=server.root)
    link = re.search(r"http://[^/\s]+(/enrol/\S+)", added.stdout)
    assert link, added.stdout
    return link.group(1)


def enrol(page: Page, server: LiveServer, link: str, passphrase: str) -> str:
    """Enrol from the link with a code from the secret it shows; return the page's text."""
    page.goto(server.url + link + "?lang=en")
    secret = re.sub(r"\s", "", page.locator("code.secret").inner_text())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("[name=passphrase]", passphrase)
    page.fill("[name=confirm]", passphrase)
    page.fill("[name=code]", earliest_code(key, 0))
    page.click("button[type=submit]")
    return page.inner_text("main")


def test_an_operator_enrols_lands_on_the_instance_page_and_is_refused_the_inbox(
        server: LiveServer, new_page: Callable[..., Page], output_dir: Path) -> None:
    host = new_page(viewport={"width": 1280, "height": 800})
    done = enrol(host, server, add_operator(server), OPERATOR_PASSPHRASE)
    assert "As the instance's operator you will see the state of each desk" in done
    assert host.locator("code.fingerprint").count() == 0  # no admin vets an operator's keys
    log_in(host, server, "host", OPERATOR_PASSPHRASE)
    assert host.url == server.url + "/admin/instance"
    host.goto(server.url + "/admin/instance?lang=en")
    rows = host.locator("table.desks tbody tr")
    assert rows.count() == 2
    assert "Justice for Iran desk" in rows.nth(1).inner_text()
    assert "b-admin" not in host.content()
    shoot(host, server.url + "/admin/instance", output_dir)
    assert host.goto(server.url + "/review/").status == 403
    reviewer = new_page()
    log_in(reviewer, server, "reviewer", REVIEWER_PASSPHRASE)
    assert reviewer.goto(server.url + "/admin/instance").status == 403


def shoot(page: Page, url: str, output_dir: Path) -> None:
    """Screenshot the page in both languages at phone and desktop width; nothing scrolls
    sideways."""
    for lang in ("en", "fa"):
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{url}?lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (lang, width)
            page.screenshot(path=str(output_dir / f"operator-instance-{lang}-{width}.png"),
                            full_page=True)
