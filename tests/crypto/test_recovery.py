"""The printed recovery key: its text form, its checksum, and what it opens."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto import (
    DecryptionError,
    Keyring,
    NewDesk,
    PrivateKey,
    create_desk,
    format_recovery_secret,
    open_epoch_key,
    parse_recovery_secret,
    recovery_key,
    unlock_epochs,
)

SECRET = bytes(range(32))
TEXT = format_recovery_secret(SECRET)
BASE32 = string.ascii_uppercase + "234567"
ALIASES = {"0": "O", "1": "I", "8": "B"}


def test_recovery_text_is_fourteen_groups_of_four_base32_characters() -> None:
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){13}", TEXT)


@pytest.mark.parametrize("typed", [
    TEXT, TEXT.lower(), TEXT.replace("-", " "), TEXT.replace("-", ""), TEXT.replace("-", "  "),
    TEXT.lower().replace("-", "\n"), f"  {TEXT}\n", TEXT.replace("-", " - "),
    TEXT.replace("O", "0").replace("I", "1").replace("B", "8"),
], ids=["as-printed", "lower-case", "spaces", "run-together", "double-spaces", "lines",
        "surrounding-space", "spaced-dashes", "look-alike-digits"])
def test_recovery_text_reads_back_forgiving_case_spaces_and_dashes(typed: str) -> None:
    assert parse_recovery_secret(typed) == SECRET


@settings(max_examples=50, deadline=None)
@given(secret=st.binary(min_size=32, max_size=32))
def test_any_recovery_secret_round_trips_through_its_text(secret: bytes) -> None:
    text = format_recovery_secret(secret)
    assert parse_recovery_secret(text) == secret
    assert parse_recovery_secret(text.lower().replace("-", " ")) == secret


def typos(text: str) -> list[str]:
    """Every text that differs from `text` by one character typed wrong.

    A look-alike digit for the letter it stands for (0 for O) is forgiven, not a typo.
    """
    found = []
    for position, char in enumerate(text):
        if char == "-":
            continue
        for other in BASE32 + "".join(ALIASES) + "9.":
            if ALIASES.get(other, other) != char:
                found.append(text[:position] + other + text[position + 1:])
    return found


def test_a_single_mistyped_character_is_refused() -> None:
    accepted = []
    for typo in typos(TEXT):
        try:
            parse_recovery_secret(typo)
        except ValueError:
            continue
        accepted.append(typo)
    assert accepted == []


@pytest.mark.parametrize("position", [0, 1, 30, len(TEXT) - 1])
def test_a_dropped_or_doubled_character_is_refused(position: int) -> None:
    with pytest.raises(ValueError, match="recovery key"):
        parse_recovery_secret(TEXT[:position] + TEXT[position + 1:])
    with pytest.raises(ValueError, match="recovery key"):
        parse_recovery_secret(TEXT[:position] + TEXT[position] + TEXT[position:])


def test_two_swapped_neighbours_are_refused() -> None:
    letters = TEXT.replace("-", "")
    for position in range(len(letters) - 1):
        if letters[position] == letters[position + 1]:
            continue
        swapped = (letters[:position] + letters[position + 1] + letters[position]
                   + letters[position + 2:])
        with pytest.raises(ValueError, match="recovery key"):
            parse_recovery_secret(swapped)


@pytest.mark.parametrize("text", [
    "", "hello", "AAAA-BBBB", TEXT + "-AAAA", TEXT[:-5], "۱۲۳۴", TEXT.replace("A", "Ａ"),
    format_recovery_secret(bytes(32))[:-1] + "9",
])
def test_text_that_is_not_a_recovery_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="recovery key"):
        parse_recovery_secret(text)


def test_recovery_key_is_derived_from_the_secret_alone() -> None:
    assert recovery_key(SECRET).to_bytes() == recovery_key(SECRET).to_bytes()
    assert recovery_key(SECRET).fingerprint != recovery_key(bytes(32)).fingerprint
    assert recovery_key(SECRET).to_bytes() != PrivateKey.from_seed(SECRET, "other").to_bytes()


def test_the_printed_recovery_key_opens_the_epoch_grant_of_a_new_desk(
        keyring: Keyring, desk: NewDesk) -> None:
    key = recovery_key(parse_recovery_secret(desk.recovery_text.lower().replace("-", " ")))
    assert keyring.recovery_key("main") == key.public_key
    grant = keyring.grant("main", desk.epoch.id, key.fingerprint)
    assert grant is not None
    opened = open_epoch_key(grant, key, desk_id="main", epoch_id=desk.epoch.id,
                            epoch_public=keyring.current_epoch("main").public_key)
    assert opened.to_bytes() == desk.epoch_key.to_bytes()
    assert unlock_epochs(keyring, key)[("main", 1)].to_bytes() == desk.epoch_key.to_bytes()


def test_a_near_miss_recovery_key_opens_nothing(keyring: Keyring, desk: NewDesk) -> None:
    secret = parse_recovery_secret(desk.recovery_text)
    near_miss = recovery_key(bytes([secret[0] ^ 0x01]) + secret[1:])
    assert unlock_epochs(keyring, near_miss) == {}
    grant = keyring.grant("main", 1, recovery_key(secret).fingerprint)
    assert grant is not None
    with pytest.raises(DecryptionError):
        open_epoch_key(grant, near_miss, desk_id="main", epoch_id=1,
                       epoch_public=desk.epoch.public_key)


def test_each_desk_gets_its_own_recovery_key(keyring: Keyring, desk: NewDesk) -> None:
    other = create_desk(keyring, "second", "Second desk", desk.epoch.created)
    assert other.recovery_text != desk.recovery_text
    first_key = recovery_key(parse_recovery_secret(desk.recovery_text))
    assert set(unlock_epochs(keyring, first_key)) == {("main", 1)}
