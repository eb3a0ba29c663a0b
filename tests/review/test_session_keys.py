"""Case keys a session opened are kept with it, encrypted, and die with it."""

from __future__ import annotations

import pytest
from flask import Flask

from intake.crypto import unlock, unlock_epochs
from intake.store.models import ReviewSession, Submission, User
from intake.testimonies import cases
from intake.web.database import get_session
from tests.conftest import ADMIN_PASSPHRASE
from tests.review.conftest import log_in
from tests.review.test_cases import submit


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every case whose data key is opened with an epoch key."""
    opened: list[str] = []
    original = cases.data_key

    def counting(submission: Submission, *args):  # type: ignore[no-untyped-def]
        opened.append(submission.id)
        return original(submission, *args)

    monkeypatch.setattr(cases, "data_key", counting)
    return opened


def test_a_second_search_opens_no_data_key_again(app: Flask, opens: list[str]) -> None:
    family = app.test_client()
    for _ in range(3):
        submit(family)
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    first = reviewer.get("/review/", query_string={"q": "گوهردشت"}).get_data(as_text=True)
    assert len(opens) == 3
    second = reviewer.get("/review/", query_string={"q": "گوهردشت"}).get_data(as_text=True)
    assert len(opens) == 3
    assert first.count("علی رضایی") == second.count("علی رضایی") == 3


def test_kept_case_keys_are_ciphertext_and_another_login_starts_without_them(
        app: Flask, opens: list[str]) -> None:
    submit(app.test_client())
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    reviewer.get("/review/")
    with app.app_context():
        db = get_session()
        [case] = db.query(Submission).all()
        key = cases.data_key(case, _epoch_keys(app)).first
        [record] = db.query(ReviewSession).all()
        assert record.sealed_case_keys
        assert key not in record.sealed_case_keys
    opens.clear()
    other = app.test_client()
    assert log_in(app, other, name="admin").status_code == 302
    other.get("/review/")
    assert opens == [case.id]


def _epoch_keys(app: Flask):  # type: ignore[no-untyped-def]
    """The admin's unlocked epoch keys, as a login would have them."""
    keyring = app.extensions["intake.desk"].keyring
    admin = get_session().query(User).filter_by(name="admin").one()
    private = unlock(keyring.user_key(admin.id)[1], admin.passphrase_verifier, ADMIN_PASSPHRASE)
    return unlock_epochs(keyring, private)
