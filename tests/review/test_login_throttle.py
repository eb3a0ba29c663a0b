"""Login throttling: per account, names never written down, no lock-out of the real reviewer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from intake import create_app
from intake.desk.setup import initialise
from intake.web.database import get_session
from tests.conftest import instance_config, stored_bytes
from tests.review.conftest import log_in, login_form_token, totp_now

WRONG = "wrong passphrase here"
FROZEN = 1_800_000_000.0


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the clock inside one minute, so every attempt falls in the same counter."""
    monkeypatch.setattr("time.time", lambda: FROZEN)


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the passphrase checks (Argon2 runs) logins make."""
    from intake.staff import accounts

    runs: list[int] = []
    real = accounts.unlock_with_verifier

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "unlock_with_verifier", counted)
    return runs


def throttle(app: Flask, client: FlaskClient, name: str, spent: int = 0) -> None:
    """Spend the rest of an account's five attempts this minute on wrong codes; then 429."""
    statuses = [log_in(app, client, name=name, passphrase=WRONG, code="000000").status_code
                for _ in range(6 - spent)]
    assert statuses == [401] * (5 - spent) + [429]


def test_login_throttling_is_per_account_a_second_account_logs_in_while_the_first_is_throttled(
        app: Flask, client: FlaskClient, frozen: None) -> None:
    throttle(app, client, "reviewer")
    assert log_in(app, client, name="admin", passphrase=WRONG, code="000000").status_code == 401
    assert log_in(app, app.test_client(), name="admin").status_code == 302


def test_five_wrong_tries_against_a_name_do_not_lock_the_real_reviewer_out(
        app: Flask, client: FlaskClient, frozen: None) -> None:
    """Reproduction: five wrong tries a minute against a reviewer's name made the right
    passphrase and code get 429; a right, unspent code now goes through the throttle."""
    throttle(app, client, "reviewer")
    assert log_in(app, app.test_client()).status_code == 302


def test_past_the_limit_a_replayed_code_runs_no_passphrase_check(
        app: Flask, client: FlaskClient, frozen: None, argon2_runs: list[int]) -> None:
    code = totp_now(app, "reviewer")
    assert log_in(app, client, passphrase=WRONG, code=code).status_code == 401
    assert len(argon2_runs) == 1
    throttle(app, client, "reviewer", spent=1)
    for _ in range(5):
        assert log_in(app, client, code=code).status_code == 429
    assert len(argon2_runs) == 1


def test_two_logins_carrying_the_same_code_at_once_open_one_session(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests read the unspent code before either marks it used; only one may go on."""
    from intake.staff import accounts

    both_checked = threading.Barrier(2, timeout=10)
    real = accounts.totp_step

    def in_step(*args, **kwargs):  # type: ignore[no-untyped-def]
        step = real(*args, **kwargs)
        both_checked.wait()
        return step

    code = totp_now(app, "reviewer")
    clients = [app.test_client(), app.test_client()]
    tokens = [login_form_token(c) for c in clients]
    monkeypatch.setattr(accounts, "totp_step", in_step)
    statuses: list[int] = []

    def attempt(client: FlaskClient, token: str) -> None:
        statuses.append(client.post("/review/login", data={
            "csrf_token": token, "name": "reviewer", "passphrase": "reviewer passphrase for tests",
            "code": code}).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens,
                                                                           strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [302, 401]


def counter_keys(app: Flask) -> list[str]:
    with app.app_context():
        return [row[0] for row in get_session().execute(text("SELECT key FROM throttle"))]


def database_bytes(app: Flask) -> bytes:
    stored = stored_bytes(app)
    assert stored
    return stored


def test_attempt_counters_hold_no_account_name_and_are_keyed_by_an_instance_secret(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """Reproduction: throttle rows were named "login:<name>", so a seized database listed every
    name anyone tried, typos and guesses included."""
    for name in ("shirin.ahmadi", "reviewer"):
        log_in(app, client, name=name, passphrase=WRONG, code="000000")
    keys = counter_keys(app)
    assert len(keys) == 2
    for key in keys:
        assert "shirin" not in key
        assert "reviewer" not in key
    stored = database_bytes(app)
    assert b"shirin.ahmadi" not in stored
    assert "shirin.ahmadi".encode("utf-16-le") not in stored
    other = create_app(instance_config(tmp_path / "other"))
    initialise(other.extensions["intake.settings"], [])
    log_in(other, other.test_client(), name="shirin.ahmadi", passphrase=WRONG, code="000000")
    [elsewhere] = counter_keys(other)
    assert elsewhere not in keys


def test_upgrading_forgets_counters_named_in_the_clear(app: Flask) -> None:
    """Counters written before this release were named "login:<name>"; the migration drops
    them rather than leave the names in the database."""
    from alembic import command
    from alembic.config import Config

    from intake.store.db import MIGRATIONS, upgrade

    engine = app.extensions["intake.db"]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        connection.execute(text("INSERT INTO throttle (key, \"window\", count) "
                                "VALUES ('login:shirin.ahmadi', 99999999, 1)"))
    upgrade(engine)
    assert counter_keys(app) == []
