"""The family chooses the desks that may read its testimony; each chosen desk gets the data key
sealed to its current epoch with itself in the binding, a desk not chosen gets nothing."""

from __future__ import annotations

import pytest
from flask import Flask

from intake.crypto import DecryptionError, Keyring, open_data_key, unlock_account, unlock_epochs
from intake.store.models import CaseDesk, Submission, User
from intake.web.database import get_session
from tests.desks.conftest import passphrase_of
from tests.submit.conftest import filled_form, post_form


def epoch_keys_of(app: Flask, name: str) -> dict:  # type: ignore[type-arg]
    """Every epoch key an account's grants open (as a login would before any filtering)."""
    keyring: Keyring = app.extensions["intake.desk"].keyring
    with app.app_context():
        user = get_session().query(User).filter_by(name=name).one()
        keys = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier,
                              passphrase_of(name))
    return unlock_epochs(keyring, keys.key)


def sealed_copies(app: Flask) -> dict[str, tuple[int, bytes]]:
    """desk -> (epoch, sealed data key) of the one stored case."""
    with app.app_context():
        case = get_session().query(Submission).one()
        copies = {case.desk_id: (case.epoch_id, case.sealed_key)}
        copies |= {row.desk_id: (row.epoch_id, row.sealed_key)
                   for row in get_session().query(CaseDesk)}
        return copies | {"id": case.id}  # type: ignore[dict-item]


def test_the_form_offers_every_open_desk_with_what_it_does(app: Flask) -> None:
    page = app.test_client().get("/submit?lang=en").get_data(as_text=True)
    assert page.count('type="checkbox" name="desks"') == 0  # the code page comes first
    from tests.submit.conftest import csrf_and_nonce

    client = app.test_client()
    start = csrf_and_nonce(client, "en")
    form = client.post("/submit/form?lang=en", data={**start, "no_code": "y"}
                       ).get_data(as_text=True)
    assert form.count('type="checkbox" name="desks"') == 3
    assert "Justice for Iran desk" in form
    assert "Keeps the names of the buried." in form


def test_a_family_that_chooses_b_and_c_is_sealed_to_b_and_c_only(app: Flask) -> None:
    """Chosen b and c: one case, sealed to b's and c's epoch 1; the first desk (main) holds no
    copy, and each copy opens only with its own desk's key and binding."""
    response = post_form(app.test_client(), filled_form(desks=["b", "c"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    copies = sealed_copies(app)
    record = copies.pop("id")
    assert sorted(copies) == ["b", "c"]
    b_keys, c_keys = epoch_keys_of(app, "b-reviewer"), epoch_keys_of(app, "c-reviewer")
    b_epoch, b_sealed = copies["b"]
    c_epoch, c_sealed = copies["c"]
    opened_b = open_data_key(b_sealed, b_keys["b", b_epoch], desk_id="b", epoch_id=b_epoch,
                             record_id=record)
    opened_c = open_data_key(c_sealed, c_keys["c", c_epoch], desk_id="c", epoch_id=c_epoch,
                             record_id=record)
    assert opened_b == opened_c
    # The desk not chosen: its keys open no copy, under either binding.
    main_key = epoch_keys_of(app, "reviewer")["main", 1]
    for desk, (epoch, sealed) in copies.items():
        for binding in (desk, "main"):
            with pytest.raises(DecryptionError):
                open_data_key(sealed, main_key, desk_id=binding, epoch_id=epoch,
                              record_id=record)
    # b's key does not open c's copy, even if told it is c's.
    with pytest.raises(DecryptionError):
        open_data_key(c_sealed, b_keys["b", b_epoch], desk_id="c", epoch_id=c_epoch,
                      record_id=record)


@pytest.mark.parametrize(("desks", "lang", "message"), [
    ([], "en", "Please choose at least one organisation that may read your testimony."),
    (["nowhere"], "en", "One of the organisations this form named is not on this site."),
    (["b", "nowhere"], "en", "One of the organisations this form named is not on this site."),
    ([], "fa", "لطفاً دست‌کم یک سازمان را برگزینید"),
])
def test_a_form_naming_no_desk_or_an_unknown_one_is_refused_in_the_familys_language(
        app: Flask, desks: list[str], lang: str, message: str) -> None:
    response = post_form(app.test_client(), filled_form(desks=desks or None), lang=lang)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "علی رضایی" in page  # everything typed is kept
    with app.app_context():
        assert get_session().query(Submission).count() == 0
        assert get_session().query(CaseDesk).count() == 0
