"""Web hygiene: headers on every response, language and direction, no client data kept."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.security import HEADERS


def _get_routes(app: Flask) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in (rule.methods or ()) and not rule.arguments)


def _assert_hygiene(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "style-src 'self'", "img-src 'self'",
                      "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in csp


def test_every_get_route_carries_the_security_headers(app: Flask, client: FlaskClient) -> None:
    routes = _get_routes(app)
    assert "/" in routes
    for route in routes:
        _assert_hygiene(client.get(route))
    _assert_hygiene(client.get("/static/style.css"))


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/no-such-page", 404),
    ("POST", "/", 405),
    ("DELETE", "/", 405),
])
def test_error_responses_carry_the_security_headers(client: FlaskClient, method: str, path: str,
                                                    status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    _assert_hygiene(response)
    assert b"Traceback" not in response.data


def test_an_unexpected_error_gets_a_plain_page_with_the_headers(app: Flask) -> None:
    def explode() -> str:
        raise RuntimeError("secret detail")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode?lang=en")
    assert response.status_code == 500
    _assert_hygiene(response)
    assert b"secret detail" not in response.data
    assert b"Something went wrong on our side" in response.data


def test_landing_page_is_persian_and_right_to_left_by_default(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert "خروج سریع" in page


def test_english_is_chosen_by_link_and_remembered(client: FlaskClient) -> None:
    response = client.get("/?lang=en")
    page = response.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert "Leave this site quickly" in page
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert '<html lang="en" dir="ltr">' in client.get("/").get_data(as_text=True)


def test_an_unknown_language_falls_back_to_the_default(client: FlaskClient) -> None:
    response = client.get("/?lang=xx")
    assert '<html lang="fa" dir="rtl">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_cookies_are_secure_unless_configured_for_plain_http(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = app.test_client().get("/?lang=en").headers["Set-Cookie"]
    assert "Secure" in cookie


def test_quick_exit_link_is_on_the_landing_page(app: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert f'class="quick-exit" href="{app.config["QUICK_EXIT_URL"]}"' in page
