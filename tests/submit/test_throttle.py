"""Follow-up attempts: bounded work, no lockout of families, no trace of when anyone came."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from intake import create_app
from intake.store.throttle import Busy, WorkGate
from intake.testimonies import submissions
from intake.web.database import get_session
from tests.conftest import Instance
from tests.submit.conftest import AtOnce
from tests.submit.test_followup import open_case, submit_and_get_code


def counters(app: Flask) -> list[tuple[str, int, int]]:
    with app.app_context():
        rows = get_session().execute(text('SELECT key, "window", count FROM throttle'))
        return [tuple(row) for row in rows]


def test_a_flood_of_wrong_codes_does_not_lock_a_family_out(client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    for _ in range(70):
        assert open_case(client, "wrong code").status_code == 200
    assert '<dl class="outline">' in open_case(client, code).get_data(as_text=True)


def test_a_follow_up_visit_leaves_no_attempt_counter_in_the_database(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    open_case(client, "wrong code")
    open_case(client, code)
    assert counters(app) == []


def test_counters_of_past_minutes_are_purged_on_a_workers_first_request(
        instance: Instance) -> None:
    app = create_app(dict(instance.config))
    with app.app_context():
        get_session().execute(text("INSERT INTO throttle (key, \"window\", count) "
                                   "VALUES ('followup', 29000000, 3)"))
        get_session().commit()
    fresh = create_app(dict(instance.config))
    assert fresh.test_client().get("/").status_code == 200
    assert counters(fresh) == []


def test_a_code_check_waits_for_a_free_slot_and_gives_up_with_503(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    derived: list[str] = []
    monkeypatch.setattr(submissions, "derive_family_key",
                        lambda code, *args: derived.append(code))
    gate = app.extensions["intake.code_gate"] = WorkGate(1, wait_seconds=0.05)
    with gate.slot():
        response = open_case(client, "wrong code")
    assert response.status_code == 503
    assert derived == []


def test_no_more_checks_run_at_once_than_the_gate_has_slots() -> None:
    gate, at_once = WorkGate(2, wait_seconds=5), AtOnce()

    def check() -> None:
        with gate.slot():
            at_once.hold(0.05)

    threads = [threading.Thread(target=check) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert at_once.most == 2


def test_a_gate_with_no_free_slot_refuses_after_waiting() -> None:
    gate = WorkGate(1, wait_seconds=0.05)
    with gate.slot(), pytest.raises(Busy), gate.slot():
        pass
