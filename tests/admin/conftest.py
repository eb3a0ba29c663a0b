"""Helpers for admin tests: an admin's logged-in client, invite links and enrolment."""

from __future__ import annotations

import base64
import re
import time

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.review.conftest import log_in, page_token

NEW_PASSPHRASE = "a brand new reviewer passphrase"


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """A client with the admin's live session."""
    client = app.test_client()
    assert log_in(app, client, name="admin").status_code == 302
    return client


def invite_link(admin: FlaskClient, name: str, role: str = "reviewer") -> str:
    """Make an invite on the admin page and return its path."""
    page = admin.post("/admin/invite", data={"csrf_token": page_token(admin, "/admin/"),
                                             "name": name, "role": role}).get_data(as_text=True)
    link = re.search(r"<code>http://localhost(/enrol/[^<]+)</code>", page)
    assert link, page[:2000]
    return link.group(1)


def enrol(app: Flask, link: str, passphrase: str = NEW_PASSPHRASE,
          lang: str | None = None) -> TestResponse:
    """Follow a one-time link as the invitee, in `lang` if given, and post the form."""
    client = app.test_client()
    token, code = link_form(client, link, lang)
    return client.post(link, data={"csrf_token": token, "passphrase": passphrase,
                                   "confirm": passphrase, "code": code})


def link_form(client: FlaskClient, link: str, lang: str | None = None) -> tuple[str, str]:
    """Open a one-time link; return its CSRF token and a right code from its new secret."""
    page = client.get(link, query_string={"lang": lang} if lang else None).get_data(as_text=True)
    secret = shown_secret(page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return token.group(1), TOTP(key, 6, SHA1(), 30).generate(time.time()).decode()  # noqa: S303


def shown_secret(page: str) -> str:
    """Read the authenticator secret the enrolment page shows, its groups joined."""
    shown = re.search(r'<code class="ltr secret" dir="ltr">(.*?)</code>', page)
    assert shown
    return re.sub(r"<[^>]+>| ", "", shown.group(1))
