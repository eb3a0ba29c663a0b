"""The inbox: filters on plaintext columns, unread, pages newest first, search with a filter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.store.models import User
from intake.testimonies.submissions import NewSubmission, store_submission
from intake.testimonies.uploads import UploadBatch
from intake.web.review.inbox import PAGE_SIZE
from tests.review.conftest import log_in

FIRST_DAY = dt.date(2026, 1, 1)
# A case link, with the inbox filter it carries for next and previous.
CASE_LINK = r'href="/review/([0-9a-f]{32})(?:\?[^"]*)?"'


@pytest.fixture
def reviewer(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert log_in(app, client).status_code == 302
    return client


def store(app: Flask, cases: list[dict[str, Any]]) -> list[str]:
    """Store testimonies as the form would (sealed, encrypted), then set their plaintext columns.

    Each case is a dict of the answers' "name" and "testimony" and the columns received_on,
    status, priority and assignee_id; return the ids in the order given.
    """
    desk, ids = app.extensions["intake.desk"], []
    with Session(app.extensions["intake.db"]) as db:
        for case in cases:
            answers = {"name": case["name"], "arrest_place": "تهران",
                       "testimony": case.get("testimony", "زندان اوین")}
            submission = store_submission(
                db, desk, NewSubmission(answers=answers, batch=UploadBatch(desk.store, 0, 0)),
                case.get("received_on", FIRST_DAY))
            for column in ("status", "priority", "assignee_id"):
                if column in case:
                    setattr(submission, column, case[column])
            db.commit()
            ids.append(submission.id)
    return ids


def listed(client: FlaskClient, **query: str) -> list[str]:
    """Return the ids of the cases an inbox page lists, top to bottom."""
    response = client.get("/review/", query_string=query)
    assert response.status_code == 200
    return re.findall(CASE_LINK, response.get_data(as_text=True))


def user_id(app: Flask, name: str) -> str:
    with Session(app.extensions["intake.db"]) as db:
        return db.query(User).filter_by(name=name).one().id


def test_the_status_filter_lists_only_cases_in_that_status(app: Flask,
                                                           reviewer: FlaskClient) -> None:
    new, corroborated, closed = store(app, [
        {"name": "نو"}, {"name": "تأییدشده", "status": "corroborated"},
        {"name": "بسته", "status": "closed"}])
    assert listed(reviewer, status="corroborated") == [corroborated]
    assert listed(reviewer, status="new") == [new]
    assert set(listed(reviewer)) == {new, corroborated, closed}


def test_the_priority_filter_lists_only_cases_of_that_priority(app: Flask,
                                                               reviewer: FlaskClient) -> None:
    low, urgent = store(app, [{"name": "عادی", "priority": 0}, {"name": "فوری", "priority": 2}])
    assert listed(reviewer, priority="2") == [urgent]
    assert listed(reviewer, priority="0") == [low]


def test_the_assignee_filter_lists_only_that_reviewers_cases(app: Flask,
                                                             reviewer: FlaskClient) -> None:
    me, admin = user_id(app, "reviewer"), user_id(app, "admin")
    mine, theirs, nobodys = store(app, [{"name": "من", "assignee_id": me},
                                        {"name": "او", "assignee_id": admin}, {"name": "هیچ"}])
    assert listed(reviewer, assignee=me) == [mine]
    assert listed(reviewer, assignee=admin) == [theirs]
    assert nobodys in listed(reviewer)


def test_the_received_day_range_includes_both_ends_and_nothing_outside(
        app: Flask, reviewer: FlaskClient) -> None:
    ids = store(app, [{"name": f"روز {n}", "received_on": FIRST_DAY + dt.timedelta(days=n)}
                      for n in range(5)])
    assert listed(reviewer, **{"from": "2026-01-02", "to": "2026-01-04"}) == ids[3:0:-1]
    assert listed(reviewer, **{"from": "2026-01-04"}) == ids[:2:-1]
    assert listed(reviewer, to="2026-01-02") == ids[1::-1]


def test_a_case_this_reviewer_opened_leaves_their_unread_list_but_no_one_elses(
        app: Flask, reviewer: FlaskClient) -> None:
    opened, untouched = store(app, [{"name": "خوانده"}, {"name": "نخوانده"}])
    assert set(listed(reviewer, unread="1")) == {opened, untouched}
    assert reviewer.get(f"/review/{opened}").status_code == 200
    assert listed(reviewer, unread="1") == [untouched]
    assert opened in listed(reviewer)
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    assert set(listed(admin, unread="1")) == {opened, untouched}


def test_the_second_page_shows_the_rest_newest_first(app: Flask,
                                                     reviewer: FlaskClient) -> None:
    count = PAGE_SIZE + 3
    ids = store(app, [{"name": f"شاهد {n}", "received_on": FIRST_DAY + dt.timedelta(days=n)}
                      for n in range(count)])
    newest_first = ids[::-1]
    first = reviewer.get("/review/").get_data(as_text=True)
    assert re.findall(CASE_LINK, first) == newest_first[:PAGE_SIZE]
    assert "۱ / ۲" in first  # the page's digits: Persian by default
    assert listed(reviewer, page="2") == newest_first[PAGE_SIZE:]
    # A search pages its matches the same way.
    assert listed(reviewer, q="اوین", page="2") == newest_first[PAGE_SIZE:]


def test_a_search_combined_with_a_filter_lists_only_cases_matching_both(
        app: Flask, reviewer: FlaskClient) -> None:
    cases = [{"name": f"{place} {status}", "testimony": f"زندان {place}", "status": status}
             for place in ("گوهردشت", "اوین") for status in ("new", "corroborated")]
    gohardasht_new, gohardasht_corroborated, _, evin_corroborated = store(app, cases)
    assert listed(reviewer, q="گوهردشت", status="corroborated") == [gohardasht_corroborated]
    assert listed(reviewer, q="گوهردشت", status="new") == [gohardasht_new]
    assert listed(reviewer, q="اوین", status="corroborated") == [evin_corroborated]
