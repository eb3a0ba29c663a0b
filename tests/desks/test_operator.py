"""The instance operator: the coalition's host, of no desk, holding no desk's keys. It enrols and
logs in like staff, lands on the instance page, and every desk route refuses it."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.cli import main
from intake.store.models import Attachment, AuditEvent, Submission, User
from intake.web.database import get_session
from tests.admin.conftest import NEW_PASSPHRASE, enrol
from tests.desks.conftest import logged_in
from tests.review.conftest import log_in, page_token, totp_now
from tests.submit.conftest import filled_form, post_form

# What an operator may reach besides the public pages: its own account, and the instance page.
# (A passphrase form posted without its fields is shown again: 200, nothing changed.)
OPERATOR_ROUTES = {("GET", "review.change_passphrase"): 200,
                   ("POST", "review.change_passphrase"): 200, ("GET", "operator.instance"): 200}
# Reached by an operator, but not part of the matrix: logging in (public) and logging out.
LEFT_OUT = {"review.login", "review.logout"}


def add_operator(app: Flask, name: str = "host") -> str:
    """`intake users add NAME --role operator`; return the enrolment link's path."""
    added = app.test_cli_runner().invoke(main, ["users", "add", name, "--role", "operator"])
    assert added.exit_code == 0, added.output
    assert f"One-time link for {name} (operator, no desk)" in added.output
    link = re.search(r"http://[^/\s]+(/enrol/\S+)", added.output)
    assert link, added.output
    return link.group(1)


@pytest.fixture
def operator(app: Flask) -> FlaskClient:
    """An operator added at the shell, enrolled through its link and logged in."""
    assert enrol(app, add_operator(app)).status_code == 200
    client = app.test_client()
    # The code used at enrolment is spent: the next one logs in.
    response = log_in(app, client, "host", NEW_PASSPHRASE, totp_now(app, "host", 30))
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/instance"
    return client


def routes(app: Flask, prefixes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Every (method, endpoint, rule) of the URL map under these blueprints."""
    return [(method, rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in prefixes
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]


def a_case(app: Flask) -> dict[str, str]:
    """A case of the first desk with a file: real ids, so only the guard stands in the way."""
    assert post_form(app.test_client(), filled_form(desks=["main"]),
                     files=[("letter.txt", b"a letter")]).status_code == 200
    with app.app_context():
        case = get_session().query(Submission).one()
        file = get_session().query(Attachment).filter_by(submission_id=case.id).one()
        reviewer = get_session().query(User).filter_by(name="reviewer").one()
        return {"case_id": case.id, "other_id": case.id, "file_id": file.id,
                "user_id": reviewer.id, "invite_id": "a" * 64, "filter_id": "1"}


def test_every_review_and_desk_admin_route_refuses_an_operator_get_and_post(
        app: Flask, operator: FlaskClient) -> None:
    """Reproduction: before the role, the command line was the only way in and anyone at the
    shell was every desk. Now an operator's live session asks for every /review and /admin
    route (real case, file and account ids, a valid CSRF token): each answers 403 but its own
    passphrase page and the instance page, and nothing is changed or read."""
    ids = a_case(app)
    token = page_token(operator, "/review/passphrase")
    checked = routes(app, ("review", "admin", "operator"))
    assert len(checked) >= 35, len(checked)
    for method, endpoint, rule in checked:
        if endpoint in LEFT_OUT:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids[m.group(1)], rule)
        response = operator.open(path, method=method, data={
            "csrf_token": token, "text": "x", "status": "closed", "name": "intruder",
            "role": "admin", "fingerprint": "x", "confirmed": "y",
            "passphrase": NEW_PASSPHRASE, "organisation_name": "Hijacked",
            "upload_limit_mib": "1", "accepted_types": ""})
        expected = OPERATOR_ROUTES.get((method, endpoint), 403)
        assert response.status_code == expected, (method, path, response.status_code)
    with app.app_context():
        db = get_session()
        assert db.get(Submission, ids["case_id"]).status == "new"
        assert db.query(User).filter_by(name="intruder").count() == 0
        actions = {e.action for e in db.query(AuditEvent).filter_by(actor_id=operator_id(app))}
    assert actions == {"enrol", "unlock"}  # no view, no export, no note: nothing was reached


def operator_id(app: Flask, name: str = "host") -> str:
    with app.app_context():
        return get_session().query(User).filter_by(name=name).one().id


@pytest.mark.parametrize("who", ["reviewer", "admin", "b-admin"])
def test_a_reviewer_or_a_desk_admin_is_refused_the_instance_page(app: Flask, who: str) -> None:
    client = logged_in(app, who)
    assert client.get("/admin/instance").status_code == 403


def test_without_a_session_the_instance_page_sends_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/admin/instance")
    assert response.status_code == 302
    assert response.headers["Location"] == "/review/login"


def test_the_instance_page_shows_each_desk_by_counts_never_names_nor_cases(
        app: Flask, operator: FlaskClient) -> None:
    """Three desks: both names, open, one admin and one reviewer each (main: the fixture's
    admin and reviewer), epoch 1; no account name, and the page is the same after a family
    sends a case to desk b (no case count)."""
    before = operator.get("/admin/instance?lang=en").get_data(as_text=True)
    assert "Mothers of Khavaran desk" in before
    assert "میز مادران خاوران" in before
    assert "Keeps the names of the buried." in before
    rows = re.findall(r"<tr><td data-label=\"Name in Persian\".*?</tr>", before, re.S)
    assert len(rows) == 3
    for row in rows:
        cells = re.findall(r'data-label="([^"]+)">(.*?)</td>', row, re.S)
        shown = {label: re.sub(r"<[^>]+>", "", text) for label, text in cells}
        assert (shown["State"], shown["Active admins"], shown["Active reviewers"],
                shown["Current epoch"], shown["Key rotation"]) == (
            "Open to families", "1", "1", "1", "—")
    for name in ("b-admin", "b-reviewer", "c-admin", "c-reviewer", ">admin<", ">reviewer<"):
        assert name not in before
    post_form(app.test_client(), filled_form(desks=["b"]))
    after = operator.get("/admin/instance?lang=en").get_data(as_text=True)
    assert without_free_space(after) == without_free_space(before)


def without_free_space(page: str) -> str:
    """The page less the free space figure, which a stored file changes."""
    return re.sub(r"Free: [\d,]+ MiB", "Free: N MiB", page)


def test_the_instance_page_says_when_a_desks_rotation_holds_its_lock(
        app: Flask, operator: FlaskClient) -> None:
    from intake.desk import rotation

    settings = app.extensions["intake.settings"]
    with rotation.exclusive(settings.instance_path, "c"):
        page = operator.get("/admin/instance?lang=en").get_data(as_text=True)
    assert page.count("Under way (a rotation or a backup holds the desk's lock)") == 1


def test_the_instance_page_is_in_persian_right_to_left(operator: FlaskClient) -> None:
    page = operator.get("/admin/instance?lang=fa").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert "میزهای کار" in page
    assert "باز برای خانواده‌ها" in page


def test_the_domain_never_grants_certifies_or_unlocks_a_desk_epoch_for_an_operator(
        app: Flask, operator: FlaskClient) -> None:
    """Called directly, not through a page: granting an operator raises and writes no grant;
    certifying it raises; a grant planted in the keyring for its key is destroyed by the next
    rotation's reconciliation and opens nothing at its login."""
    from intake.crypto import grant_epoch, unlock_epochs
    from intake.desk import rotation, trust
    from intake.staff import sessions
    from intake.staff.accounts import AccountError, grant
    from tests.conftest import ADMIN_PASSPHRASE
    from tests.unlock import unlock_user

    keyring = app.extensions["intake.desk"].keyring
    with app.app_context():
        db = get_session()
        host = db.query(User).filter_by(name="host").one()
        _, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        epoch = keyring.current_epoch("main")
        epoch_key = unlock_epochs(keyring, keys.key)[("main", epoch.id)]
        public = keyring.user_key(host.id)[0]
        with pytest.raises(AccountError, match="an operator holds no desk's keys"):
            grant(db, keyring, epoch, epoch_key, host)
        assert keyring.grant("main", epoch.id, public.fingerprint) is None
        assert signer is not None
        with pytest.raises(trust.TrustError, match="never certified by a desk"):
            trust.certify_account(keyring, "main", signer, host)
        grant_epoch(keyring, epoch, epoch_key, public)  # planted, as a keyring writer could
        host.totp_last_step = 0  # as if a minute had passed: the next code is fresh
        db.commit()
        client = app.test_client()
        assert log_in(app, client, "host", NEW_PASSPHRASE,
                      totp_now(app, "host")).status_code == 302
        live = sessions.load(db, client.get_cookie("intake_review").value, int(time.time()))
        assert live is not None
        assert live.epoch_keys == {}
        rotation.reconcile(db, keyring, epoch, epoch_key)
        assert keyring.grant("main", epoch.id, public.fingerprint) is None


def test_links_and_set_up_refuse_an_operator_of_a_desk_and_a_desk_account_of_no_desk(
        app: Flask) -> None:
    from intake.desk.setup import add_granted_user
    from intake.staff import invites
    from intake.staff.accounts import AccountError
    from intake.store.models import NO_DESK

    with app.app_context():
        db = get_session()
        for role, desk in (("operator", "b"), ("operator", None), ("reviewer", NO_DESK),
                           ("admin", NO_DESK)):
            with pytest.raises(AccountError, match="an operator belongs to no desk"):
                invites.create(db, "someone", role, int(time.time()), desk_id=desk)
        settings = app.extensions["intake.settings"]
        with pytest.raises(AccountError, match="an operator holds no desk's keys"):
            add_granted_user(db, app.extensions["intake.desk"].keyring, settings,
                             None, name="someone", role="operator",  # type: ignore[arg-type]
                             passphrase=NEW_PASSPHRASE, today=dt.date.today())
        assert db.query(User).filter_by(name="someone").count() == 0


def test_a_desk_admin_neither_lists_nor_grants_nor_revokes_the_operator(
        app: Flask, operator: FlaskClient) -> None:
    host = operator_id(app)
    add_operator(app, "second-host")  # a link not yet used: not among the desk's links either
    admin = logged_in(app, "admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "host" not in page
    token = page_token(admin, "/admin/")
    for action in ("grant", "revoke", "reset-totp", "require-new-keys"):
        response = admin.post(f"/admin/users/{host}/{action}",
                              data={"csrf_token": token, "confirmed": "y", "fingerprint": "x"})
        assert response.status_code == 404, action
    assert operator.get("/admin/instance").status_code == 200


def test_the_shell_lists_and_revokes_an_operator_of_no_desk_audited(
        app: Flask, operator: FlaskClient) -> None:
    """`users list` says (no desk); `desks list` counts desk accounts only; `users add --role
    operator --desk b` is refused; `users revoke host` needs no --desk on three desks, ends
    its session; invite and revocation are in the audit log."""
    runner = app.test_cli_runner()
    listed = runner.invoke(main, ["users", "list"]).output
    assert re.search(r"^host +operator +active +\(no desk\)$", listed, re.M), listed
    assert re.search(r"^main +open +accounts:2 ", runner.invoke(main, ["desks", "list"]).output,
                     re.M)
    refused = runner.invoke(main, ["users", "add", "other", "--role", "operator", "--desk", "b"])
    assert refused.exit_code == 1
    assert "an operator belongs to no desk: leave out --desk" in refused.output
    desk_link = runner.invoke(main, ["users", "add", "newcomer", "--role", "reviewer",
                                     "--desk", "b"])
    assert "One-time link for newcomer (reviewer, desk b)" in desk_link.output
    revoked = runner.invoke(main, ["users", "revoke", "host"])
    assert revoked.exit_code == 0, revoked.output
    assert "host (operator) is revoked: 1 sessions ended" in revoked.output
    response = operator.get("/admin/instance")
    assert response.status_code == 302
    assert response.headers["Location"] == "/review/login"
    host = operator_id(app)
    with app.app_context():
        events = [(e.actor_id, e.action, e.subject_id, e.detail)
                  for e in get_session().query(AuditEvent)]
    assert (None, "invite", None, "operator") in events
    assert (host, "enrol", host, "") in events
    assert (host, "unlock", None, "operator") in events
    assert (None, "revoke", host, "grants:0 sessions:1") in events


def test_an_operator_changes_its_own_passphrase_audited_as_staff_are(
        app: Flask, operator: FlaskClient) -> None:
    token = page_token(operator, "/review/passphrase")
    changed = operator.post("/review/passphrase", data={
        "csrf_token": token, "current": NEW_PASSPHRASE, "new": "the host's newer passphrase",
        "confirm": "the host's newer passphrase"}, query_string={"lang": "en"})
    assert "Your passphrase is changed." in changed.get_data(as_text=True)
    assert "Replace my keys" not in changed.get_data(as_text=True)
    host = operator_id(app)
    with app.app_context():
        assert get_session().query(AuditEvent).filter_by(
            actor_id=host, action="passphrase", subject_id=host).count() == 1
