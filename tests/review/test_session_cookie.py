"""The review session cookie, the only copy of the session's key, as a browser receives it."""

from __future__ import annotations

from flask import Flask

from intake import create_app
from tests.review.conftest import PASSPHRASES, totp_now


def production_cookie_app(instance) -> Flask:  # type: ignore[no-untyped-def]
    """The test instance with the cookie settings an installation has by default."""
    config = dict(instance.config)
    del config["SESSION_COOKIE_SECURE"]
    return create_app(config)


def test_the_review_session_cookie_is_secure_httponly_samesite_strict_and_never_stored(
        instance) -> None:  # type: ignore[no-untyped-def]
    app = production_cookie_app(instance)
    client = app.test_client()
    page = client.get("/review/login", base_url="https://localhost").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    # Over HTTPS, Flask-WTF also wants a same-origin Referer.
    response = client.post("/review/login", base_url="https://localhost",
                           headers={"Referer": "https://localhost/review/login"}, data={
        "csrf_token": token, "name": "reviewer", "passphrase": PASSPHRASES["reviewer"],
        "code": totp_now(app, "reviewer")})
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("intake_review=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in cookie.split(";")[1:]}
    assert attributes["secure"] == "Secure"
    assert attributes["httponly"] == "HttpOnly"
    assert attributes["samesite"] == "SameSite=Strict"
    assert attributes["path"] == "Path=/"
    # A browser-session cookie: the key is not written to the reviewer's disk to outlive it.
    assert "expires" not in attributes
    assert "max-age" not in attributes
    assert "domain" not in attributes
