"""Redeeming one invite twice at once: one account, a clear answer to the other, no leftovers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import Invite, User
from intake.web.database import get_session
from tests.admin.conftest import NEW_PASSPHRASE, invite_link, link_form

USED_FA = "این پیوند همین الان به کار رفته است"
TAKEN_FA = "کاربری به نام sima از پیش وجود دارد"


def ready_form(app: Flask, link: str) -> tuple[FlaskClient, dict[str, str]]:
    """Open the link in a Persian browser and fill its form, without sending it."""
    client = app.test_client()
    token, code = link_form(client, link, "fa")
    return client, {"csrf_token": token, "passphrase": NEW_PASSPHRASE,
                    "confirm": NEW_PASSPHRASE, "code": code}


@pytest.mark.parametrize(("links", "loser"), [
    (1, (409, USED_FA)), (2, (200, TAKEN_FA))], ids=["one-invite", "two-invites-one-name"])
def test_two_redemptions_at_once_make_one_account_and_leave_no_orphan_keys(
        app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch, links: int,
        loser: tuple[int, str]) -> None:
    """Reproduction: two requests redeeming the same invite (or two invites for one name) at
    once both created an account; the second commit failed with a 500 and left its key file
    in keys/users."""
    from intake.staff import invites

    made = [invite_link(admin, "sima") for _ in range(links)]
    paths = [made[0], made[-1]]
    forms = [(*ready_form(app, path), path) for path in paths]
    both_checked = threading.Barrier(2, timeout=10)
    real = invites.totp_step

    def in_step(*args, **kwargs):  # type: ignore[no-untyped-def]
        step = real(*args, **kwargs)
        both_checked.wait()  # both requests have found the invite and checked its code
        return step

    monkeypatch.setattr(invites, "totp_step", in_step)
    answers: list[tuple[int, str]] = []

    def redeem(client: FlaskClient, data: dict[str, str], link: str) -> None:
        response = client.post(link, data=data)
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=redeem, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(code for code, _ in answers) == sorted([200, loser[0]])
    assert [code for code, body in answers if loser[1] in body] == [loser[0]]
    keys_dir: Path = app.extensions["intake.settings"].keys_dir
    with app.app_context():
        db = get_session()
        assert db.query(User).filter_by(name="sima").count() == 1
        assert db.query(Invite).count() == links - 1  # a link that made nothing stays
        ids = {user.id for user in db.query(User)}
    assert {p.stem for p in (keys_dir / "users").glob("*.json")} == ids
    assert [p for p in keys_dir.rglob("*") if p.is_file() and ".tmp" in p.name] == []
