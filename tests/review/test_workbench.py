"""The inbox as a workbench: bulk actions, saved filters, next and previous case, notes, plurals."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import AuditEvent, SavedFilter, Submission
from intake.testimonies import cases
from intake.web.database import get_session
from tests.conftest import REVIEWER_PASSPHRASE, stored_bytes
from tests.review.conftest import log_in, page_token, totp_now
from tests.review.test_inbox import FIRST_DAY, store, user_id
from tests.review.test_key_generations import epochs_of
from tests.review.test_locked import NEWCOMER_PASSPHRASE, add_unvetted

SECRET_LABEL = "شاهد-کلیدی-۶۷"
SECRET_SEARCH = "گوهردشت-جست‌وجو"


def bulk(client: FlaskClient, ids: list[str], action: str, **fields: str):  # type: ignore[no-untyped-def]
    """Tick `ids` in the inbox and press the button of `action`."""
    return client.post("/review/bulk", data={
        "csrf_token": page_token(client, "/review/"), "case": ids, "action": action,
        "status": "new", "assignee": "", "label": "", **fields})


def audited(app: Flask, action: str) -> list[tuple[str | None, str]]:
    with app.app_context():
        return [(e.subject_id, e.detail) for e in
                get_session().query(AuditEvent).filter_by(action=action).order_by(AuditEvent.seq)]


def column(app: Flask, name: str) -> dict[str, object]:
    with app.app_context():
        return {s.id: getattr(s, name) for s in get_session().query(Submission)}


def labels_of(app: Flask, case_id: str) -> list[str]:
    """Decrypt a case's labels with the desk's epoch key, as a session would."""
    with app.app_context():
        submission = get_session().get(Submission, case_id)
        keys = epochs_of(app, "reviewer", REVIEWER_PASSPHRASE)
        return cases.labels(submission, cases.data_key(submission, keys))


def test_a_bulk_status_change_sets_each_ticked_case_and_audits_each_one(
        app: Flask, reviewer: FlaskClient) -> None:
    first, second, untouched = store(app, [{"name": "یک"}, {"name": "دو"}, {"name": "سه"}])
    response = bulk(reviewer, [first, second], "status", status="corroborated")
    assert response.status_code == 302
    assert "changed=2" in response.headers["Location"]
    statuses = column(app, "status")
    assert (statuses[first], statuses[second], statuses[untouched]) == (
        "corroborated", "corroborated", "new")
    assert sorted(audited(app, "status")) == sorted([(first, "corroborated"),
                                                     (second, "corroborated")])


def test_a_bulk_assignment_is_audited_per_case_with_the_assignee_id(
        app: Flask, reviewer: FlaskClient) -> None:
    first, second = store(app, [{"name": "یک"}, {"name": "دو"}])
    me = user_id(app, "reviewer")
    assert bulk(reviewer, [first, second], "assign", assignee=me).status_code == 302
    assert set(column(app, "assignee_id").values()) == {me}
    assert sorted(audited(app, "assign")) == sorted([(first, me), (second, me)])


def test_a_bulk_label_is_added_encrypted_and_the_audit_log_never_holds_its_text(
        app: Flask, reviewer: FlaskClient) -> None:
    first, second = store(app, [{"name": "یک"}, {"name": "دو"}])
    assert bulk(reviewer, [first, second], "label", label=SECRET_LABEL).status_code == 302
    assert labels_of(app, first) == [SECRET_LABEL]
    assert labels_of(app, second) == [SECRET_LABEL]
    assert sorted(audited(app, "label_add")) == sorted([(first, ""), (second, "")])
    assert SECRET_LABEL.encode() not in stored_bytes(app)
    # Added twice, it is kept once and the second time changes nothing.
    again = bulk(reviewer, [first], "label", label=SECRET_LABEL)
    assert "changed=0" in again.headers["Location"]
    assert labels_of(app, first) == [SECRET_LABEL]


def test_a_bulk_action_leaves_a_case_this_session_cannot_open_untouched_and_says_so(
        app: Flask, reviewer: FlaskClient) -> None:
    """Reproduction: status is a plaintext column, so without the key check a reviewer could
    change a case sealed to an epoch they were never granted."""
    readable, locked = store(app, [{"name": "یک"}, {"name": "دو"}])
    with app.app_context():
        db = get_session()
        db.get(Submission, locked).epoch_id = 99
        db.commit()
    response = bulk(reviewer, [readable, locked], "status", status="closed")
    assert "changed=1" in response.headers["Location"]
    assert "skipped=1" in response.headers["Location"]
    assert column(app, "status")[locked] == "new"
    assert audited(app, "status") == [(readable, "closed")]
    page = reviewer.get(response.headers["Location"] + "&lang=en")
    assert "1 case was left unchanged" in page.get_data(as_text=True)


def test_a_bulk_action_with_nothing_ticked_or_a_bad_id_changes_nothing(
        app: Flask, reviewer: FlaskClient) -> None:
    [case_id] = store(app, [{"name": "یک"}])
    for ids in ([], [case_id, "../../etc"]):
        response = bulk(reviewer, ids, "status", status="closed")
        assert "bulk=invalid" in response.headers["Location"]
    assert column(app, "status")[case_id] == "new"


def test_every_workbench_route_refuses_an_unvetted_account(app: Flask) -> None:
    [case_id] = store(app, [{"name": "یک"}])
    add_unvetted(app, "newcomer")
    newcomer = app.test_client()
    assert log_in(app, newcomer, name="newcomer", passphrase=NEWCOMER_PASSPHRASE,
                  code=totp_now(app, "newcomer")).status_code == 302
    token = page_token(newcomer, "/review/passphrase")
    with app.app_context():
        db = get_session()
        db.add(SavedFilter(id="f" * 32, user_id=user_id(app, "newcomer"), params="status=new"))
        db.commit()
    for path, data in (("/review/bulk", {"case": [case_id], "action": "status",
                                         "status": "closed"}),
                       ("/review/filters", {}),
                       ("/review/filters/" + "f" * 32 + "/delete", {})):
        response = newcomer.post(path, data={"csrf_token": token, **data},
                                 query_string={"lang": "en"})
        assert response.status_code == 403, path
        assert "awaiting vetting" in response.get_data(as_text=True)
    assert column(app, "status")[case_id] == "new"
    with app.app_context():
        assert get_session().query(SavedFilter).count() == 1


def test_a_saved_filter_keeps_plaintext_columns_only_never_search_text_or_labels(
        app: Flask, reviewer: FlaskClient) -> None:
    token = page_token(reviewer, "/review/")
    query = {"status": "corroborated", "priority": "2", "from": "2026-01-02",
             "q": SECRET_SEARCH, "label": SECRET_LABEL, "unread": "1", "page": "3"}
    response = reviewer.post("/review/filters", data={"csrf_token": token}, query_string=query)
    assert response.status_code == 302
    with app.app_context():
        [row] = get_session().query(SavedFilter).all()
        assert row.params == "from=2026-01-02&priority=2&status=corroborated&unread=1"
    assert SECRET_SEARCH.encode() not in stored_bytes(app)
    assert SECRET_LABEL.encode() not in stored_bytes(app)
    page = reviewer.get("/review/", query_string={"lang": "en"}).get_data(as_text=True)
    assert 'href="/review/?from=2026-01-02&amp;priority=2&amp;status=corroborated&amp;unread=1"' \
        in page
    assert "Status: Corroborated" in page


def test_a_saved_filter_is_seen_and_deleted_by_its_owner_only(
        app: Flask, reviewer: FlaskClient) -> None:
    token = page_token(reviewer, "/review/")
    reviewer.post("/review/filters", data={"csrf_token": token}, query_string={"status": "new"})
    with app.app_context():
        [row] = get_session().query(SavedFilter).all()
        filter_id = row.id
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    assert filter_id not in admin.get("/review/").get_data(as_text=True)
    theirs = admin.post(f"/review/filters/{filter_id}/delete",
                        data={"csrf_token": page_token(admin, "/review/")})
    assert theirs.status_code == 404
    assert filter_id in reviewer.get("/review/").get_data(as_text=True)
    mine = reviewer.post(f"/review/filters/{filter_id}/delete", data={"csrf_token": token})
    assert mine.status_code == 302
    with app.app_context():
        assert get_session().query(SavedFilter).count() == 0


def neighbour_links(client: FlaskClient, case_id: str, **query: str) -> tuple[str, str]:
    page = client.get(f"/review/{case_id}", query_string={"lang": "en", **query})
    html = page.get_data(as_text=True)
    found = []
    for rel in ("prev", "next"):
        link = re.search(rf'href="/review/([0-9a-f]{{32}})[^"]*" rel="{rel}"', html)
        found.append(link.group(1) if link else "")
    return found[0], found[1]


def test_next_and_previous_follow_the_inbox_order_within_the_current_filter(
        app: Flask, reviewer: FlaskClient) -> None:
    days = [FIRST_DAY + dt.timedelta(days=n) for n in range(4)]
    oldest, skipped, middle, newest = store(app, [
        {"name": "یک", "received_on": days[0]},
        {"name": "دو", "received_on": days[1], "status": "closed"},
        {"name": "سه", "received_on": days[2]}, {"name": "چهار", "received_on": days[3]}])
    # The inbox lists newest first: previous is the case above, next the one below.
    assert neighbour_links(reviewer, middle, status="new") == (newest, oldest)
    assert neighbour_links(reviewer, middle) == (newest, skipped)
    assert neighbour_links(reviewer, newest, status="new") == ("", middle)
    assert neighbour_links(reviewer, oldest, status="new") == (middle, "")


def test_next_and_previous_follow_a_search(app: Flask, reviewer: FlaskClient) -> None:
    days = [FIRST_DAY + dt.timedelta(days=n) for n in range(3)]
    first, _, third = store(app, [
        {"name": "یک", "received_on": days[0], "testimony": "اوین"},
        {"name": "دو", "received_on": days[1], "testimony": "قزل‌حصار"},
        {"name": "سه", "received_on": days[2], "testimony": "اوین"}])
    assert neighbour_links(reviewer, third, q="اوین") == ("", first)
    assert neighbour_links(reviewer, first, q="اوین") == (third, "")


def test_a_triage_save_returns_to_the_case_in_the_same_filter(
        app: Flask, reviewer: FlaskClient) -> None:
    [case_id] = store(app, [{"name": "یک"}])
    token = page_token(reviewer, f"/review/{case_id}")
    response = reviewer.post(f"/review/{case_id}/note", query_string={"status": "new"},
                             data={"csrf_token": token, "text": "یادداشت"})
    assert response.headers["Location"] == f"/review/{case_id}?status=new"


def test_a_note_shows_who_wrote_it_and_the_day_only(app: Flask, reviewer: FlaskClient) -> None:
    [case_id] = store(app, [{"name": "یک"}])
    token = page_token(reviewer, f"/review/{case_id}")
    reviewer.post(f"/review/{case_id}/note", data={"csrf_token": token, "text": "Note text"})
    page = reviewer.get(f"/review/{case_id}", query_string={"lang": "en"}).get_data(as_text=True)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert (f'<small class="byline"><bdi>reviewer</bdi> · '
            f'<span class="ltr date" dir="ltr">{today}</span></small>') in page


def test_counts_use_the_plural_forms_of_the_page_language(app: Flask,
                                                          reviewer: FlaskClient) -> None:
    """Reproduction: the inbox said "1 cases"."""
    store(app, [{"name": "یک"}])
    one = reviewer.get("/review/", query_string={"lang": "en"}).get_data(as_text=True)
    assert "<p>1 case</p>" in one
    store(app, [{"name": "دو"}])
    two = reviewer.get("/review/", query_string={"lang": "en"}).get_data(as_text=True)
    assert "<p>2 cases</p>" in two
    persian = reviewer.get("/review/", query_string={"lang": "fa"}).get_data(as_text=True)
    assert "<p>۲ پرونده</p>" in persian

