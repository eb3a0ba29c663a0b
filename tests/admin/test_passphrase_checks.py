"""Every passphrase check outside login is throttled per account: no unthrottled oracle."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import Invite, User
from intake.web.database import get_session
from tests.admin.conftest import link_form
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE
from tests.review.conftest import log_in, page_token

WRONG = "not the passphrase at all"
FROZEN = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock the test moves by hand; it starts inside one minute."""
    now = [FROZEN]
    monkeypatch.setattr("time.time", lambda: now[0])
    return now


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count passphrase checks wherever they are made."""
    from intake import crypto

    runs: list[int] = []

    def counting(real):  # type: ignore[no-untyped-def]
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            runs.append(1)
            return real(*args, **kwargs)
        return counted

    for module, name in (("intake.staff.invites", "unlock"),
                         ("intake.web.review.account", "unlock_account"),
                         ("intake.web.admin.keys", "unlock_account")):
        monkeypatch.setattr(f"{module}.{name}", counting(getattr(crypto, name)))
    return runs


def reset_link(app: Flask, admin: FlaskClient) -> str:
    with app.app_context():
        reviewer = get_session().query(User).filter_by(name="reviewer").one().id
    page = admin.post(f"/admin/users/{reviewer}/reset-totp",
                      data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"}
                      ).get_data(as_text=True)
    found = re.search(r"<code>http://localhost(/enrol/[^<]+)</code>", page)
    assert found
    return found.group(1)


def redeem(client: FlaskClient, link: str, passphrase: str) -> int:
    """Post the reset form with a right code from the link's new secret."""
    token, code = link_form(client, link)
    return client.post(link, data={"csrf_token": token, "passphrase": passphrase,
                                   "code": code}).status_code


def test_a_reset_link_is_no_passphrase_oracle_it_is_throttled_and_spent_on_success_only(
        clock: list[float], app: Flask, admin: FlaskClient, argon2_runs: list[int]) -> None:
    """Reproduction: whoever held a second-factor reset link could try passphrases on it
    without limit, each try one Argon2 run telling right from wrong."""
    link, holder = reset_link(app, admin), app.test_client()
    assert [redeem(holder, link, WRONG) for _ in range(5)] == [200] * 5
    assert redeem(holder, link, REVIEWER_PASSPHRASE) == 429
    assert len(argon2_runs) == 5
    with app.app_context():
        assert get_session().query(Invite).count() == 1  # wrong tries do not spend it
    clock[0] += 60
    assert redeem(holder, link, REVIEWER_PASSPHRASE) == 200
    assert app.test_client().get(link).status_code == 404  # spent on success


def test_a_new_reset_link_replaces_the_earlier_one(app: Flask, admin: FlaskClient) -> None:
    first = reset_link(app, admin)
    reset_link(app, admin)
    assert app.test_client().get(first).status_code == 404


@pytest.mark.parametrize(("path", "fields", "who"), [
    ("/review/passphrase", {"new": "a new passphrase for tests", "confirm":
                            "a new passphrase for tests"}, "reviewer"),
    ("/admin/keys", {}, "admin"),
])
def test_a_stolen_session_cannot_try_passphrases_without_limit(
        clock: list[float], app: Flask, argon2_runs: list[int],
        path: str, fields: dict[str, str], who: str) -> None:
    """Reproduction: the passphrase asked again on /review/passphrase and /admin/keys was
    checked with no count, so a stolen session cookie was an offline-speed passphrase oracle."""
    client = app.test_client()
    assert log_in(app, client, name=who).status_code == 302
    right = {"reviewer": REVIEWER_PASSPHRASE, "admin": ADMIN_PASSPHRASE}[who]
    name = "current" if path == "/review/passphrase" else "passphrase"
    token = page_token(client, path)
    statuses = [client.post(path, data={"csrf_token": token, name: WRONG, **fields}).status_code
                for _ in range(5)]
    assert statuses == [200] * 5
    assert client.post(path, data={"csrf_token": token, name: right, **fields}).status_code == 429
    assert len(argon2_runs) == 5
