"""Retiring a desk: off the form, accounts revoked, every grant destroyed; the cases it shared
stay readable by the other chosen desks; refused while a case was given to it alone."""

from __future__ import annotations

from flask import Flask

from intake.cli import main
from intake.crypto import Keyring
from intake.store.models import SearchRow, Submission, User
from intake.testimonies import cases
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_routes import SEEN, send_to
from tests.submit.conftest import csrf_and_nonce


def search_rows(app: Flask) -> set[tuple[str, str]]:
    """Every search index row: (case, desk)."""
    with app.app_context():
        return {(row.submission_id, row.desk_id) for row in get_session().query(SearchRow)}


def test_retiring_c_keeps_its_shared_cases_with_b_and_leaves_c_with_nothing(app: Flask) -> None:
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    for name in ("b-reviewer", "c-reviewer"):
        logged_in(app, name).get("/review/", query_string={"q": "رضایی"})
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    assert keyring.grant_recipients("c", 1)
    assert search_rows(app) == {(case_id, "b"), (case_id, "c")}
    result = app.test_cli_runner().invoke(main, ["desks", "retire", "c", "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 accounts revoked" in result.output
    assert keyring.grant_recipients("c", 1) == []  # the recovery key's grant too
    assert epoch_keys_of(app, "c-reviewer") == {}
    # c's search rows went with its keys; b's stays.
    assert search_rows(app) == {(case_id, "b")}
    with app.app_context():
        db = get_session()
        assert {u.state for u in db.query(User).filter_by(desk_id="c")} == {"revoked"}
        case = db.get(Submission, case_id)
        keys = cases.data_key(case, epoch_keys_of(app, "b-reviewer"), db)
        assert cases.answers(case, keys)["relationship"] == "sister"
    client = app.test_client()
    form = client.post("/submit/form?lang=en", data={**csrf_and_nonce(client, "en"),
                                                     "no_code": "y"}).get_data(as_text=True)
    assert form.count('type="checkbox" name="desks"') == 2
    assert "Mothers of Khavaran" not in form


def test_retiring_a_desk_that_alone_holds_a_case_is_refused_and_changes_nothing(
        app: Flask) -> None:
    SEEN.clear()
    send_to(app, ["c"])
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    before = keyring.grant_recipients("c", 1)
    result = app.test_cli_runner().invoke(main, ["desks", "retire", "c", "--yes"])
    assert result.exit_code != 0
    assert "1 cases are held by desk c and by no other open desk" in result.output
    assert keyring.grant_recipients("c", 1) == before
    with app.app_context():
        assert {u.state for u in get_session().query(User).filter_by(desk_id="c")} == {"active"}


def test_a_case_whose_other_desk_retired_first_keeps_its_last_desk(app: Flask) -> None:
    """Reproduction: a case sent to b and c, c retired, then b retired too: b's check counted
    only cases sent to b alone, so the retirement went through and destroyed the last keys
    that opened the case."""
    SEEN.clear()
    send_to(app, ["b", "c"])
    runner = app.test_cli_runner()
    assert runner.invoke(main, ["desks", "retire", "c", "--yes"]).exit_code == 0
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    before = keyring.grant_recipients("b", 1)
    result = runner.invoke(main, ["desks", "retire", "b", "--yes"])
    assert result.exit_code != 0
    assert "1 cases are held by desk b and by no other open desk" in result.output
    assert keyring.grant_recipients("b", 1) == before
    with app.app_context():
        assert {u.state for u in get_session().query(User).filter_by(desk_id="b")} == {"active"}
