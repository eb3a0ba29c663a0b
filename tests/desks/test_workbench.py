"""The workbench on a coalition: bulk actions change the reviewer's own desk's triage only,
offer only its own desk's accounts, and next and previous case walk only its desk's cases."""

from __future__ import annotations

import re

from flask import Flask

from intake.store.models import CaseDesk, Submission, User
from intake.testimonies import cases
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_routes import SEEN, send_to
from tests.review.test_workbench import bulk


def account_id(app: Flask, name: str) -> str:
    with app.app_context():
        return get_session().query(User).filter_by(name=name).one().id


def test_bulk_actions_change_the_desks_own_triage_of_a_shared_case_and_skip_others(
        app: Flask) -> None:
    """A case for b and c (b chosen first) and one for main alone: c's reviewer ticks both and
    sets status, adds a label and assigns. c's triage of the shared case changes; b's status,
    labels and assignee stay as they were; main's case is skipped, untouched, as one that
    does not exist; an account of b is refused as assignee."""
    SEEN.clear()
    shared, _ = send_to(app, ["b", "c"])
    alone, _ = send_to(app, ["main"])
    c = logged_in(app, "c-reviewer")
    response = bulk(c, [shared, alone], "status", status="rejected")
    assert "changed=1" in response.headers["Location"]
    assert "skipped=1" in response.headers["Location"]
    assert bulk(c, [shared], "label", label="c-bulk").status_code == 302
    assert bulk(c, [shared], "assign", assignee=account_id(app, "c-reviewer")).status_code == 302
    refused = bulk(c, [shared], "assign", assignee=account_id(app, "b-reviewer"))
    assert "bulk=invalid" in refused.headers["Location"]
    with app.app_context():
        db = get_session()
        work = db.get(CaseDesk, (shared, "c"))
        first = db.get(Submission, shared)
        assert (work.status, work.assignee_id) == ("rejected", account_id(app, "c-reviewer"))
        assert (first.status, first.assignee_id, first.labels) == ("new", None, None)
        assert db.get(Submission, alone).status == "new"
        keys = cases.data_key(first, epoch_keys_of(app, "c-reviewer"), db)
        assert cases.labels(work, keys) == ["c-bulk"]
    b = logged_in(app, "b-reviewer")
    assert shared not in b.get("/review/", query_string={"label": "c-bulk"}).get_data(
        as_text=True)
    found = c.get("/review/", query_string={"label": "c-bulk", "q": "رضایی"})
    assert shared in found.get_data(as_text=True)


def test_the_inbox_offers_only_the_desks_accounts_and_next_and_previous_stay_in_the_desk(
        app: Flask) -> None:
    """c's inbox offers c's accounts only as assignees (no name of another desk); walking next
    and previous from any of c's cases never lands on a case of main alone."""
    SEEN.clear()
    mine = {send_to(app, ["b", "c"])[0], send_to(app, ["c"])[0]}
    others = {send_to(app, ["main"])[0] for _ in range(3)}
    c = logged_in(app, "c-reviewer")
    page = c.get("/review/").get_data(as_text=True)
    assert ">c-reviewer<" in page
    for name in ("b-reviewer", "b-admin", ">reviewer<", ">admin<"):
        assert name not in page, name
    for case_id in mine:
        case_page = c.get(f"/review/{case_id}").get_data(as_text=True)
        linked = set(re.findall(r'href="/review/([0-9a-f]{32})[^"]*" rel="(?:next|prev)"',
                                case_page))
        # c's two cases are each other's neighbour, whatever lies between them by id.
        assert linked == mine - {case_id}
        assert not linked & others


def test_a_testimony_recorded_by_a_desks_reviewer_is_sealed_to_that_desk(app: Flask) -> None:
    """Reproduction: b's reviewer took a testimony down by phone; it was sealed to the first
    desk (main), so b's reviewer was sent to a 404 of the case it had just recorded, and
    main's reviewers read it. Now it is b's alone."""
    from tests.evidence.test_channels import record

    SEEN.clear()
    b = logged_in(app, "b-reviewer")
    response = record(b)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    case_id = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        db = get_session()
        assert db.get(Submission, case_id).desk_id == "b"
        assert db.query(CaseDesk).filter_by(submission_id=case_id).count() == 0
    assert b.get(f"/review/{case_id}").status_code == 200
    assert logged_in(app, "reviewer").get(f"/review/{case_id}").status_code == 404
