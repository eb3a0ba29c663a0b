"""The printed recovery key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from intake.crypto import (
    Keyring,
    create_desk,
    format_recovery_secret,
    parse_recovery_secret,
    recovery_key,
    unlock_epochs,
)

SECRET = bytes(range(32))


def test_recovery_text_reads_back_forgiving_case_spaces_and_dashes() -> None:
    text = format_recovery_secret(SECRET)
    assert len(text.split("-")) == 14
    assert parse_recovery_secret(text) == SECRET
    assert parse_recovery_secret(text.lower().replace("-", " ")) == SECRET


def test_a_single_mistyped_character_is_refused() -> None:
    text = format_recovery_secret(SECRET)
    for position, char in enumerate(text):
        if char == "-":
            continue
        typo = text[:position] + ("A" if char != "A" else "B") + text[position + 1:]
        with pytest.raises(ValueError, match="recovery key"):
            parse_recovery_secret(typo)


@pytest.mark.parametrize("text", ["", "hello", "AAAA-BBBB"])
def test_text_that_is_not_a_recovery_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="recovery key"):
        parse_recovery_secret(text)


def test_the_printed_recovery_key_opens_the_first_epoch(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path)
    desk = create_desk(keyring, "main", "Main desk", dt.date(2026, 11, 25))
    key = recovery_key(parse_recovery_secret(desk.recovery_text))
    unlocked = unlock_epochs(keyring, key)
    assert unlocked[("main", 1)].to_bytes() == desk.epoch_key.to_bytes()
    assert keyring.recovery_key("main") == key.public_key
