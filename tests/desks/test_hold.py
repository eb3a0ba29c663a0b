"""A safety hold by any chosen desk keeps every desk's replies from the family's code: the code
may be in a state's hands, whichever desk learnt it. Each desk releases its own held replies
(only its keys open them) once no hold remains."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from intake.cli import main
from intake.store.models import AuditEvent, Reply, Submission, User
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.review.test_cases import submit
from tests.review.test_close_code import reply, set_status
from tests.submit.test_followup import open_case


def shared_case(app: Flask) -> tuple[FlaskClient, str, str, FlaskClient, FlaskClient]:
    """A case for main (first chosen, A) and b (B) with a code: family, code, id, A, B."""
    family = app.test_client()
    code = submit(family, desks=["main", "b"])  # type: ignore[arg-type]
    with app.app_context():
        (case_id,) = [c.id for c in get_session().query(Submission)]
    return family, code, case_id, logged_in(app, "reviewer"), logged_in(app, "b-reviewer")


def held_texts(app: Flask, reviewer: str) -> set[str]:
    """The ids of the held replies (kept from the code) that `reviewer` wrote."""
    with app.app_context():
        db = get_session()
        author = db.query(User).filter_by(name=reviewer).one()
        return {row.id for row in db.query(Reply).filter_by(author_id=author.id)
                if row.for_family == b""}


def releases(app: Flask) -> list[str]:
    """The details of every release_replies audit entry, in any order."""
    with app.app_context():
        return sorted(e.detail or "" for e in get_session().query(AuditEvent).filter_by(
            action="release_replies"))


def test_a_hold_by_the_second_desk_keeps_the_first_desks_replies_from_the_code(
        app: Flask) -> None:
    """Case for main and b: main replies; b sets the safety hold; main replies again. Neither
    of main's replies shows on the family's page and the new one is not sealed to the code.
    b lifts: b's held reply reaches the family at once, main's only when main's reviewer
    next opens the case, each release audited."""
    family, code, case_id, a, b = shared_case(app)
    reply(a, case_id, "A-before-hold")
    set_status(b, case_id, "safety_hold")
    reply(a, case_id, "A-during-hold")
    reply(b, case_id, "B-during-hold")
    assert len(held_texts(app, "reviewer")) == 1
    assert len(held_texts(app, "b-reviewer")) == 1
    page = open_case(family, code).get_data(as_text=True)
    assert '<dl class="outline">' in page
    assert "A-before-hold" not in page
    assert "A-during-hold" not in page
    assert "B-during-hold" not in page
    assert "هنوز پاسخی نرسیده است." in page  # "There are no replies yet."
    # A's reviewer is told its replies are held, not by which desk.
    assert "Another organisation the family chose has put this case on safety hold" in \
        a.get(f"/review/{case_id}?lang=en").get_data(as_text=True)
    assert len(held_texts(app, "reviewer")) == 1  # opening the case during the hold kept it
    set_status(b, case_id, "in_triage")
    assert held_texts(app, "b-reviewer") == set()
    assert len(held_texts(app, "reviewer")) == 1
    page = open_case(family, code).get_data(as_text=True)
    assert "A-before-hold" in page
    assert "B-during-hold" in page
    assert "A-during-hold" not in page
    a.get(f"/review/{case_id}")
    assert held_texts(app, "reviewer") == set()
    assert "A-during-hold" in open_case(family, code).get_data(as_text=True)
    assert releases(app) == ["replies:1", "replies:1"]


def test_with_a_hold_by_both_desks_lifting_one_releases_nothing(app: Flask) -> None:
    """Case for main and b, both set the safety hold and reply; main lifts its hold and opens
    the case again: nothing reaches the family while b's hold stays. b lifts: b's reply
    reaches the family, and main's once main's reviewer opens the case."""
    family, code, case_id, a, b = shared_case(app)
    set_status(a, case_id, "safety_hold")
    set_status(b, case_id, "safety_hold")
    reply(a, case_id, "A-held")
    reply(b, case_id, "B-held")
    set_status(a, case_id, "in_triage")
    a.get(f"/review/{case_id}")
    reply(a, case_id, "A-after-own-lift")
    assert len(held_texts(app, "reviewer")) == 2
    page = open_case(family, code).get_data(as_text=True)
    assert "A-held" not in page
    assert "B-held" not in page
    assert "A-after-own-lift" not in page
    assert releases(app) == []
    set_status(b, case_id, "closed")
    a.get(f"/review/{case_id}")
    page = open_case(family, code).get_data(as_text=True)
    assert all(text in page for text in ("A-held", "B-held", "A-after-own-lift"))


def test_a_desk_holding_a_case_cannot_be_retired(app: Flask) -> None:
    """b holds a case shared with main: retiring b would leave a hold nobody could lift, so it
    is refused and b's accounts stay active; once b lifts it, retiring goes through."""
    _family, _code, case_id, _a, b = shared_case(app)
    set_status(b, case_id, "safety_hold")
    result = app.test_cli_runner().invoke(main, ["desks", "retire", "b", "--yes"])
    assert result.exit_code != 0
    assert "safety hold" in result.output
    with app.app_context():
        assert {u.state for u in get_session().query(User).filter_by(desk_id="b")} == {
            "active"}
    set_status(b, case_id, "in_triage")
    result = app.test_cli_runner().invoke(main, ["desks", "retire", "b", "--yes"])
    assert result.exit_code == 0, result.output
