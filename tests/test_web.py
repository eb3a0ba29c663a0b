"""Web hygiene: headers on every response, language and direction, no client data kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app
from intake.store.live_settings import save
from intake.web.database import get_session
from tests.conftest import Instance
from tests.review.conftest import log_in
from tests.review.test_cases import case_ids, submit
from tests.submit.conftest import filled_form, post_form

# Written out, not read from intake.web.security: a changed header must fail here.
EXPECTED_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cache-Control": "no-store, max-age=0",
    "Pragma": "no-cache",
}


def _get_routes(app: Flask) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in (rule.methods or ()) and not rule.arguments)


def _assert_hygiene(response: TestResponse) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, name


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


def test_cookies_are_secure_unless_configured_for_plain_http(instance: Instance) -> None:
    # Read once, from the checked settings, when the app is made.
    app = create_app(dict(instance.config, SESSION_COOKIE_SECURE=True))
    cookie = app.test_client().get("/?lang=en").headers["Set-Cookie"]
    assert "Secure" in cookie


def test_quick_exit_link_is_on_the_landing_page(app: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert f'class="quick-exit" href="{app.config["QUICK_EXIT_URL"]}"' in page


def _too_large(app: Flask, client: FlaskClient) -> TestResponse:
    with app.app_context():
        save(get_session(), {"upload_limit_mib": "1"})
        get_session().commit()
    return post_form(client, filled_form(), [("big.bin", b"x" * 1_500_000)])


def _server_error(app: Flask, client: FlaskClient) -> TestResponse:
    def explode() -> str:
        raise RuntimeError("secret detail")

    app.add_url_rule("/explode", view_func=explode)
    return client.get("/explode")


def _download(app: Flask, client: FlaskClient) -> TestResponse:
    submit(client)
    [case_id] = case_ids(app)
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    link = re.search(r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)"', page)
    assert link
    return reviewer.get(link.group(1))


RESPONSE_KINDS: dict[str, tuple[Callable[[Flask, FlaskClient], TestResponse], int]] = {
    "a page": (lambda _app, client: client.get("/submit"), 200),
    "a redirect": (lambda _app, client: client.get("/review/"), 302),
    "a missing page": (lambda _app, client: client.get("/no-such-page"), 404),
    "a wrong method": (lambda _app, client: client.put("/submit"), 405),
    "an upload over the limit": (_too_large, 413),
    "a form without its CSRF token": (lambda _app, client: client.post("/submit"), 400),
    "an unexpected error": (_server_error, 500),
    "a static file": (lambda _app, client: client.get("/static/style.css"), 200),
    "a file a reviewer downloads": (_download, 200),
}


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
def test_every_kind_of_response_carries_every_header(app: Flask, client: FlaskClient,
                                                     kind: str) -> None:
    """No-store, the CSP and the other headers, as literal strings, whatever answered."""
    make, status = RESPONSE_KINDS[kind]
    response = make(app, client)
    assert response.status_code == status
    _assert_hygiene(response)
