"""The family's follow-up key and the messages sealed to it: only the code opens them."""

from __future__ import annotations

import pytest

from intake.crypto import (
    FAMILY_CODE,
    INSECURE_TEST_ONLY,
    DecryptionError,
    PrivateKey,
    Profile,
    derive_family_key,
    open_for_family,
    seal_for_family,
)

from .tampering import accepted_cuts, accepted_flips

PEPPER = bytes(range(32))
CODE = "کتاب باران دریا کوه ستاره نان آینه"
WHERE = {"desk_id": "main", "record_id": "r1", "field": "reply:1"}
REPLY = "پیام شما رسید؛ ما پرونده را بررسی می‌کنیم.".encode()


@pytest.fixture(scope="module")
def family_key() -> PrivateKey:
    return derive_family_key(CODE, PEPPER, INSECURE_TEST_ONLY)[1]


def test_a_code_always_gives_the_same_lookup_id_and_key_pair() -> None:
    first = derive_family_key(CODE, PEPPER, INSECURE_TEST_ONLY)
    again = derive_family_key(f"  {CODE.replace(' ', '   ')} ", PEPPER, INSECURE_TEST_ONLY)
    assert first[0] == again[0]
    assert first[1].public_key.fingerprint == again[1].public_key.fingerprint


@pytest.mark.parametrize(("code", "pepper", "profile"), [
    (CODE + " نو", PEPPER, INSECURE_TEST_ONLY),
    (CODE, bytes(32), INSECURE_TEST_ONLY),
    (CODE, PEPPER, FAMILY_CODE),
])
def test_another_code_pepper_or_profile_gives_another_lookup_and_key(
        code: str, pepper: bytes, profile: Profile) -> None:
    lookup, key = derive_family_key(CODE, PEPPER, INSECURE_TEST_ONLY)
    other_lookup, other_key = derive_family_key(code, pepper, profile)
    assert other_lookup != lookup
    assert other_key.public_key.fingerprint != key.public_key.fingerprint


def test_the_lookup_id_reveals_nothing_of_the_key() -> None:
    lookup, key = derive_family_key(CODE, PEPPER, INSECURE_TEST_ONLY)
    assert bytes.fromhex(lookup) not in key.to_bytes()


def test_a_message_round_trips_and_starts_with_the_format_version(family_key: PrivateKey) -> None:
    sealed = seal_for_family(REPLY, family_key.public_key, **WHERE)
    assert sealed[0] == 1
    assert REPLY not in sealed
    assert open_for_family(sealed, family_key, **WHERE) == REPLY
    assert open_for_family(seal_for_family(b"", family_key.public_key, **WHERE), family_key,
                           **WHERE) == b""


def test_a_message_does_not_open_with_another_code(family_key: PrivateKey) -> None:
    sealed = seal_for_family(REPLY, family_key.public_key, **WHERE)
    _, other = derive_family_key(CODE + " نو", PEPPER, INSECURE_TEST_ONLY)
    with pytest.raises(DecryptionError):
        open_for_family(sealed, other, **WHERE)


@pytest.mark.parametrize("moved", [{"desk_id": "other"}, {"record_id": "r2"},
                                   {"field": "reply:2"}])
def test_a_message_moved_to_another_desk_record_or_field_fails(
        family_key: PrivateKey, moved: dict[str, str]) -> None:
    sealed = seal_for_family(REPLY, family_key.public_key, **WHERE)
    with pytest.raises(DecryptionError):
        open_for_family(sealed, family_key, **(WHERE | moved))


def test_every_flipped_byte_and_every_truncation_fails(family_key: PrivateKey) -> None:
    sealed = seal_for_family(b"short reply", family_key.public_key, **WHERE)

    def open_(data: bytes) -> bytes:
        return open_for_family(data, family_key, **WHERE)

    assert accepted_flips(open_, sealed, masks=(0x01, 0x80)) == []
    assert accepted_cuts(open_, sealed) == []
