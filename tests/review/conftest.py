"""Helpers for reviewer tests: log in with passphrase and TOTP, submit cases as a family."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.staff.accounts import totp_for
from intake.store.models import User
from intake.web.database import get_session
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE

PASSPHRASES = {"admin": ADMIN_PASSPHRASE, "reviewer": REVIEWER_PASSPHRASE}


def one_clock_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the clock for the rest of the test: the throttles count per clock minute, so
    tries that straddled two minutes on a slow machine were counted apart."""
    frozen = time.time()
    monkeypatch.setattr("intake.store.throttle.time.time", lambda: frozen)


def totp_now(app: Flask, name: str, offset: int = 0) -> str:
    """The code the user's authenticator app shows now."""
    with app.app_context():
        user = get_session().query(User).filter_by(name=name).one()
        return totp_for(user).generate(time.time() + offset).decode()


def login_form_token(client: FlaskClient) -> str:
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return token.group(1)


def log_in(app: Flask, client: FlaskClient, name: str = "reviewer", passphrase: str | None = None,
           code: str | None = None):  # type: ignore[no-untyped-def]
    """Post the login form; return the response."""
    return client.post("/review/login", data={
        "csrf_token": login_form_token(client), "name": name,
        "passphrase": PASSPHRASES.get(name, "x") if passphrase is None else passphrase,
        "code": totp_now(app, name) if code is None and name in PASSPHRASES else code or "000000"})


def page_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page's first form."""
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token, page[:300]
    return token.group(1)


@pytest.fixture
def family(app: Flask) -> FlaskClient:
    """A family's browser."""
    return app.test_client()


@pytest.fixture
def reviewer(app: Flask) -> FlaskClient:
    """A vetted reviewer's browser, logged in."""
    client = app.test_client()
    assert log_in(app, client).status_code == 302
    return client
