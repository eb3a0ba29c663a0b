"""A reviewer of a desk the family did not choose gets, on every case route of the URL map, GET
and POST, the same 404 as for a case that does not exist; the chosen desks' reviewers get in."""

from __future__ import annotations

import re
import secrets

from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import Attachment, Submission
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.review.conftest import page_token
from tests.submit.conftest import filled_form, post_form

IDS = ("case_id", "other_id", "file_id")


def case_routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, rule) of the URL map that names a case, a file or a linked case."""
    found = [(method, rule.rule) for rule in app.url_map.iter_rules()
             if set(IDS) & set(rule.arguments)
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    # The list is checked, so a route added later without a desk check is not left out.
    assert len(found) >= 9, found
    return found


def send_to(app: Flask, desks: list[str]) -> tuple[str, str]:
    """Store a case (with a file) for the given desks; return its id and its file's id."""
    response = post_form(app.test_client(), filled_form(desks=desks),
                         files=[("letter.txt", b"a letter")])
    assert response.status_code == 200
    with app.app_context():
        case = get_session().query(Submission).order_by(Submission.id).all()
        newest = [c for c in case if c.id not in SEEN]
        SEEN.update(c.id for c in newest)
        (record,) = newest
        attachment = get_session().query(Attachment).filter_by(submission_id=record.id).one()
        return record.id, attachment.id


SEEN: set[str] = set()


def request(client: FlaskClient, method: str, rule: str, ids: dict[str, str],
            token: str) -> tuple[int, str]:
    """Send one request to a route with these ids; return its status and its body."""
    path = re.sub(r"<(\w+)>", lambda m: ids[m.group(1)], rule)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, "text": "x", "status": "closed"})
    body = response.get_data(as_text=True)
    for value in ids.values():
        body = body.replace(value, "ID")
    return response.status_code, body


def test_every_case_route_answers_a_desk_not_chosen_as_for_a_missing_case(app: Flask) -> None:
    """Case for desks b and c: main's reviewer gets 404 on every route, byte for byte what a
    made-up id gets, and nothing is written; b's reviewer reads it."""
    SEEN.clear()
    own, own_file = send_to(app, ["main"])  # a case main may read, for the link routes
    shared, shared_file = send_to(app, ["b", "c"])
    main = logged_in(app, "reviewer")
    token = page_token(main, f"/review/{own}")
    missing = secrets.token_hex(16)
    for method, rule in case_routes(app):
        for ids in ({"case_id": shared, "other_id": own, "file_id": shared_file},
                    {"case_id": own, "other_id": shared, "file_id": own_file}):
            if ids["case_id"] == own and "other_id" not in rule:
                continue  # main's own case, only to name the other desk's case second
            planted = request(main, method, rule, ids, token)
            made_up = {key: missing if value in (shared, shared_file) else value
                       for key, value in ids.items()}
            assert planted == request(main, method, rule, made_up, token), (method, rule)
            assert planted[0] == 404, (method, rule, planted)
    with app.app_context():
        case = get_session().get(Submission, shared)
        assert case is not None
        assert case.status == "new"
    b = logged_in(app, "b-reviewer")
    page = b.get(f"/review/{shared}").get_data(as_text=True)
    assert "علی رضایی" in page
    assert b.get(f"/review/{shared}/file/{shared_file}").data == b"a letter"
    assert b.get(f"/review/{own}").status_code == 404


def test_the_inbox_and_link_suggestions_of_a_desk_not_chosen_do_not_list_the_case(
        app: Flask) -> None:
    SEEN.clear()
    own, _ = send_to(app, ["main"])
    shared, _ = send_to(app, ["b", "c"])
    main = logged_in(app, "reviewer")
    for path in ("/review/", f"/review/{own}/links", "/review/?q=رضایی"):
        page = main.get(path).get_data(as_text=True)
        assert shared not in page, path
    b = logged_in(app, "b-reviewer")
    inbox = b.get("/review/?q=رضایی").get_data(as_text=True)
    assert shared in inbox
    assert own not in inbox


def test_a_link_another_desk_confirmed_does_not_show_the_case_it_points_to(app: Flask) -> None:
    """Case X given to main and b, case Y to b only; b's reviewer links X and Y. main's
    reviewer, on X's page, sees no trace of Y."""
    SEEN.clear()
    both, _ = send_to(app, ["main", "b"])
    b_only, _ = send_to(app, ["b"])
    b = logged_in(app, "b-reviewer")
    linked = b.post(f"/review/{both}/link/{b_only}",
                    data={"csrf_token": page_token(b, f"/review/{both}")})
    assert linked.status_code == 302
    assert b_only in b.get(f"/review/{both}").get_data(as_text=True)
    main = logged_in(app, "reviewer")
    page = main.get(f"/review/{both}")
    assert page.status_code == 200
    assert b_only not in page.get_data(as_text=True)
