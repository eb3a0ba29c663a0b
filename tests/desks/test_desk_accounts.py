"""Desks of one instance: `intake desks add` and `list`, `--desk` on the admin commands, and
accounts that belong to one desk."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake.cli import main
from intake.crypto import Keyring
from intake.store.models import Invite, User
from intake.web.database import get_session
from tests.desks.conftest import Coalition, logged_in
from tests.review.conftest import page_token
from tests.test_cli import PASSPHRASE, run_intake


def test_desks_add_prints_the_desks_recovery_key_and_root_once_and_lists_it(
        tmp_path: Path) -> None:
    """`intake desks add b` on an instance made by `intake init`: the new desk has its own
    recovery key and root (both printed), its first admin, and config.py pins its root."""
    assert run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                      stdin=PASSPHRASE + "\n").returncode == 0
    added = run_intake(tmp_path, "desks", "add", "b", "--admin", "bahar",
                       "--name-en", "Second desk", "--name-fa", "میز دوم",
                       "--description-en", "Does b", "--description-fa", "کار ب",
                       "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert added.returncode == 0, added.stderr
    recovery = re.search(r"RECOVERY KEY[^\n]*\n  ([A-Z2-7-]{69})\n", added.stdout)
    root = re.search(r"ROOT FINGERPRINT[^\n]*\n  (\S+)\n", added.stdout)
    assert recovery, added.stdout
    assert root, added.stdout
    assert f"DESK_ROOTS = 'b={root.group(1)}'" in (tmp_path / "instance" / "config.py"
                                                   ).read_text()
    keyring = Keyring(tmp_path / "keys")
    assert keyring.desk_ids() == ["b", "main"]
    assert keyring.recovery_key("b") != keyring.recovery_key("main")
    assert keyring.desk("b").current_epoch == 1
    listed = run_intake(tmp_path, "desks", "list").stdout
    assert re.search(r"^b +open +accounts:1 +Second desk / میز دوم$", listed, re.M), listed
    assert re.search(r"^main +open +accounts:1 ", listed, re.M), listed
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'intake.sqlite3'}")
    with Session(engine) as db:
        assert {u.name: u.desk_id for u in db.query(User)} == {"amina": None, "bahar": "b"}
    again = run_intake(tmp_path, "desks", "add", "b", "--admin", "other", "--name-en", "x",
                       "--name-fa", "y", "--description-en", "", "--description-fa", "",
                       "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert again.returncode != 0
    assert "already a desk b; nothing was changed" in again.stderr


def test_admin_commands_ask_which_desk_when_there_are_several(app: Flask) -> None:
    """With three desks, `intake users invite` without --desk is refused and stores nothing;
    with --desk b the invite is to desk b."""
    runner = app.test_cli_runner()
    refused = runner.invoke(main, args=["users", "invite", "newcomer", "--role", "reviewer"])
    assert refused.exit_code != 0
    assert "several desks: name one with --desk (b, c, main)" in refused.output
    invited = runner.invoke(main, args=["users", "invite", "newcomer", "--role", "reviewer",
                                  "--desk", "b"])
    assert invited.exit_code == 0, invited.output
    assert "desk b" in invited.output
    unknown = runner.invoke(main, args=["keys", "status", "--desk", "nowhere"])
    assert "there is no desk nowhere" in unknown.output
    with app.app_context():
        assert [i.desk_id for i in get_session().query(Invite)] == ["b"]


def test_an_admin_command_on_one_desk_does_not_find_another_desks_account(app: Flask) -> None:
    """`intake users revoke b-reviewer --desk c` says there is no such user and revokes
    nothing; with --desk b it revokes."""
    runner = app.test_cli_runner()
    wrong = runner.invoke(main, args=["users", "revoke", "b-reviewer", "--desk", "c"])
    assert "there is no user called b-reviewer at desk c" in wrong.output
    with app.app_context():
        assert get_session().query(User).filter_by(name="b-reviewer").one().state == "active"


def test_a_reviewer_of_desk_b_unlocks_desk_b_only(app: Flask) -> None:
    """b-reviewer's session holds b's epoch and no other desk's, and it is vetted there
    (checked against b's chain and root, not the first desk's)."""
    client = logged_in(app, "b-reviewer")
    inbox = client.get("/review/")
    assert inbox.status_code == 200
    assert "unvetted" not in inbox.get_data(as_text=True)
    with app.test_request_context():
        from intake.staff import sessions

        record = get_session().query(User).filter_by(name="b-reviewer").one()
        cookie = client.get_cookie("intake_review")
        assert cookie is not None
        unlocked = sessions.load(get_session(), cookie.value, int(__import__("time").time()))
        assert unlocked is not None
        assert unlocked.user.id == record.id
        assert sorted(unlocked.epoch_keys) == [("b", 1)]


def test_an_admin_sees_and_acts_on_its_own_desks_accounts_only(app: Flask) -> None:
    """b-admin's admin page lists b's accounts only; granting or revoking an account of the
    first desk answers 404, as for an account that does not exist."""
    client = logged_in(app, "b-admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "b-reviewer" in page
    assert "c-reviewer" not in page
    assert ">reviewer<" not in page
    with app.app_context():
        other = get_session().query(User).filter_by(name="reviewer").one().id
    token = page_token(client, "/admin/")
    for action in ("grant", "revoke", "reset-totp", "require-new-keys"):
        response = client.post(f"/admin/users/{other}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action


def test_keys_rotate_and_status_act_on_the_named_desk_only(app: Flask,
                                                           coalition: Coalition) -> None:
    """`intake keys rotate --desk c --admin c-admin` rotates c (epoch 2 current, epoch 1
    retired) and leaves b and main at epoch 1; an admin of another desk cannot rotate c."""
    from tests.conftest import ADMIN_PASSPHRASE

    runner = app.test_cli_runner()
    refused = runner.invoke(main, ["keys", "rotate", "--desk", "c", "--admin", "b-admin",
                                   "--passphrase-stdin", "--settle-seconds", "0"],
                            input=ADMIN_PASSPHRASE + "\n")
    assert refused.exit_code != 0
    assert "there is no user called b-admin at desk c" in refused.output
    done = runner.invoke(main, ["keys", "rotate", "--desk", "c", "--admin", "c-admin",
                                "--passphrase-stdin", "--settle-seconds", "0"],
                         input=ADMIN_PASSPHRASE + "\n")
    assert done.exit_code == 0, done.output
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    assert [keyring.desk(d).current_epoch for d in ("b", "c", "main")] == [1, 2, 1]
    assert keyring.epoch("c", 1).retired
    status = runner.invoke(main, ["keys", "status", "--desk", "c"])
    assert status.exit_code == 0, status.output
    assert f"root fingerprint: {coalition.roots['c']}" in status.output
    assert re.search(r"^epoch +1 +retired .* grants 0$", status.output, re.M)
    assert re.search(r"^epoch +2 +current ", status.output, re.M)
    # Another desk's accounts are not c's business: none is named.
    assert "b-admin" not in status.output
    assert "reviewer," not in status.output


def test_the_first_desk_can_be_named_and_described_for_the_form(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["desks", "describe", "main", "--name-en", "Truth desk",
                                  "--description-en", "Listens to mothers."])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["desks", "list"]).output
    assert re.search(r"^main +open +accounts:2 +Truth desk / ", listed, re.M), listed
    from tests.submit.conftest import csrf_and_nonce

    client = app.test_client()
    form = client.post("/submit/form?lang=en", data={**csrf_and_nonce(client, "en"),
                                                     "no_code": "y"}).get_data(as_text=True)
    assert "Truth desk" in form
    assert "Listens to mothers." in form


def test_recover_with_desk_bs_recovery_key_regrants_desk_b_only(tmp_path: Path) -> None:
    """b's admin lost its grant; `intake recover --desk b` with main's recovery key changes
    nothing, with b's (printed once by `desks add`) re-grants b's epoch to b's admin."""
    from tests.test_rotation import fingerprint_start

    init = run_intake(tmp_path, "init", "--admin", "amina", "--passphrase-stdin",
                      stdin=PASSPHRASE + "\n")
    added = run_intake(tmp_path, "desks", "add", "b", "--admin", "bahar", "--name-en", "B",
                       "--name-fa", "ب", "--description-en", "", "--description-fa", "",
                       "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    key_of = {printed: re.search(r"RECOVERY KEY[^\n]*\n  ([A-Z2-7-]{69})\n", printed)
              for printed in (init.stdout, added.stdout)}
    main_key, b_key = (key_of[p].group(1) for p in (init.stdout, added.stdout))  # type: ignore
    keyring = Keyring(tmp_path / "keys")
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'intake.sqlite3'}")
    with Session(engine) as db:
        bahar = db.query(User).filter_by(name="bahar").one()
    keyring.delete_grant("b", 1, bytes.fromhex(bahar.key_fingerprint))
    confirm = fingerprint_start(tmp_path, "bahar")
    wrong = run_intake(tmp_path, "recover", "--desk", "b", "--admin", "bahar",
                       stdin=f"{main_key}\n{confirm}\n")
    assert wrong.returncode != 0
    assert keyring.grant("b", 1, bytes.fromhex(bahar.key_fingerprint)) is None
    right = run_intake(tmp_path, "recover", "--desk", "b", "--admin", "bahar",
                       stdin=f"{b_key}\n{confirm}\n")
    assert right.returncode == 0, right.stderr
    assert keyring.grant("b", 1, bytes.fromhex(bahar.key_fingerprint)) is not None


def test_pending_links_are_listed_and_cancelled_by_their_own_desks_admin_only(
        app: Flask, coalition: Coalition) -> None:
    """b-admin invites b-newcomer: the first desk's admin page does not list the link, and its
    cancel route answers 404 as for a link that does not exist, leaving it live; b-admin's
    page lists it, and b-admin cancels it."""
    b = logged_in(app, "b-admin")
    token = page_token(b, "/admin/")
    assert b.post("/admin/invite", data={"csrf_token": token, "name": "b-newcomer",
                                         "role": "reviewer"}).status_code == 200
    with app.app_context():
        invite = get_session().query(Invite).filter_by(name="b-newcomer").one()
        token_hash = invite.token_hash
    b_page = b.get("/admin/").get_data(as_text=True)
    assert "b-newcomer" in b_page
    assert f"/admin/invites/{token_hash}/cancel" in b_page
    main = logged_in(app, "admin")
    assert "b-newcomer" not in main.get("/admin/").get_data(as_text=True)
    response = main.post(f"/admin/invites/{token_hash}/cancel",
                         data={"csrf_token": page_token(main, "/admin/")})
    assert response.status_code == 404
    with app.app_context():
        assert get_session().get(Invite, token_hash) is not None
    assert b.post(f"/admin/invites/{token_hash}/cancel",
                  data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert get_session().get(Invite, token_hash) is None


def test_the_confirm_pages_and_the_keys_page_are_the_admins_own_desks(
        app: Flask, coalition: Coalition) -> None:
    """b-admin asking to revoke or reset the first desk's reviewer gets 404 before any confirm
    step; b-admin's keys page shows b's root fingerprint, not the first desk's."""
    b = logged_in(app, "b-admin")
    with app.app_context():
        other = get_session().query(User).filter_by(name="reviewer").one().id
    for action in ("revoke", "reset-totp"):
        assert b.get(f"/admin/users/{other}/{action}").status_code == 404, action
    page = b.get("/admin/keys").get_data(as_text=True)
    assert coalition.roots["b"] in page
    assert coalition.roots["c"] not in page
    main_root = app.extensions["intake.settings"].root
    assert main_root is not None
    from intake.desk import trust

    assert trust.fingerprint_text(main_root) not in page
