"""A login re-wraps keys made under weaker Argon2 parameters than the instance now asks for."""

from __future__ import annotations

import struct

from flask import Flask

from intake import create_app
from intake.crypto.passphrase import needs_rewrap
from intake.store.models import User
from intake.web.database import get_session
from tests.conftest import Instance
from tests.review.conftest import log_in


def argon2_parameters(app: Flask, name: str) -> tuple[int, int, int]:
    """Read the time cost, memory (KiB) and parallelism stored in a wrapped key's header."""
    with app.app_context():
        user = get_session().query(User).filter_by(name=name).one()
        blob = app.extensions["intake.desk"].keyring.user_key(user.id)[1]
    return struct.unpack_from(">III", blob, 1 + 16)


def test_a_login_rewraps_keys_made_under_weaker_argon2_parameters(instance: Instance) -> None:
    """The instance moves from the test profile (8 KiB) to 4 MiB; the reviewer's next login
    wraps their keys again under the new parameters, and the new passphrase check works."""
    before = create_app(dict(instance.config))
    assert argon2_parameters(before, "reviewer") == (1, 8, 1)
    stronger = create_app({**instance.config, "KDF_PROFILE": "family-code"})
    profile = stronger.extensions["intake.settings"].kdf_profile
    assert log_in(stronger, stronger.test_client()).status_code == 302
    assert argon2_parameters(stronger, "reviewer") == (2, 4096, 1)
    with stronger.app_context():
        user = get_session().query(User).filter_by(name="reviewer").one()
        assert not needs_rewrap(stronger.extensions["intake.desk"].keyring.user_key(user.id)[1],
                                profile)
    from tests.review.conftest import totp_now
    again = stronger.test_client()
    assert log_in(stronger, again, code=totp_now(stronger, "reviewer", 30)).status_code == 302
    assert argon2_parameters(before, "admin") == (1, 8, 1)  # not logged in: unchanged
