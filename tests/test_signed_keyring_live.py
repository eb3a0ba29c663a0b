"""The signed keyring through the real server: an epoch planted before `intake serve` starts."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path

from intake.crypto import Keyring, PrivateKey
from tests import live


def status_of(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_real_server_starts_with_the_alarm_and_seals_nothing_to_a_planted_epoch(
        tmp_path: Path) -> None:
    """Someone with the keyring adds an epoch whose key they hold and makes it current while
    the server is down. `intake serve` starts, prints the alarm, and the family side answers
    with the neutral offline page (no word of keys to a family); the reason is in its log."""
    env = live.initialise(tmp_path)
    keyring = Keyring(tmp_path / "keys")
    planted = keyring.add_epoch("main", PrivateKey.generate().public_key, dt.date.today())
    keyring.set_current_epoch("main", planted.id)
    server = live.start(tmp_path, env)
    try:
        status, page = status_of(server.url + "/submit?lang=en")
        assert status == 503
        assert "This service is not available right now." in page
        assert "epoch" not in page
        assert "certif" not in page
        assert status_of(server.url + "/review/login?lang=en")[0] == 200
    finally:
        server.stop()
    log = server.log()
    assert "ALARM: the family side is offline and seals nothing" in log
    assert "the keyring makes epoch 2 current, but the newest certified epoch is 1" in log
