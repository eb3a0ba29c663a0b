"""Every review route refuses anyone without a live reviewer session, GET and POST."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import ReviewSession
from intake.web.database import get_session
from tests.review.conftest import log_in, login_form_token

OPEN = {"review.login"}


def review_rules(app: Flask) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("review.") and rule.endpoint not in OPEN:
            path = rule.rule.replace("<case_id>", "a" * 32).replace("<file_id>", "b" * 32)
            paths += [(method, path) for method in ("GET", "POST")]
    return paths


def test_the_route_table_has_review_routes(app: Flask) -> None:
    assert len(review_rules(app)) >= 14


@pytest.mark.parametrize("who", ["anonymous", "logged_out", "expired_cookie"])
def test_every_review_route_refuses_without_a_live_session(app: Flask, client: FlaskClient,
                                                           who: str) -> None:
    if who != "anonymous":
        log_in(app, client)
        with app.app_context():
            db = get_session()
            db.query(ReviewSession).delete()
            db.commit()
    if who == "expired_cookie":
        client.set_cookie("intake_review", "bm9wZQ.bm9wZQ", path="/")
    token = login_form_token(client)
    for method, path in review_rules(app):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 403, 405), (method, path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].endswith("/review/login")
        assert b"<dl" not in response.data
