"""AES-256-GCM field encryption bound to record and field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto import DecryptionError, decrypt_field, encrypt_field, new_data_key

KEY = new_data_key()


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=5000), field=st.text(max_size=40))
def test_any_field_round_trips(plaintext: bytes, field: str) -> None:
    ciphertext = encrypt_field(KEY, plaintext, record_id="r1", field=field)
    assert decrypt_field(KEY, ciphertext, record_id="r1", field=field) == plaintext


@pytest.mark.parametrize(("record_id", "field"), [("r2", "name"), ("r1", "place"),
                                                  ("r1", "name "), ("", "r1name")])
def test_field_moved_to_another_record_or_field_fails(record_id: str, field: str) -> None:
    ciphertext = encrypt_field(KEY, "فاطمه".encode(), record_id="r1", field="name")
    with pytest.raises(DecryptionError):
        decrypt_field(KEY, ciphertext, record_id=record_id, field=field)


def test_field_does_not_open_with_another_data_key() -> None:
    ciphertext = encrypt_field(KEY, b"testimony", record_id="r1", field="story")
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), ciphertext, record_id="r1", field="story")


def test_any_flipped_byte_in_a_field_fails() -> None:
    ciphertext = encrypt_field(KEY, b"the night they took him", record_id="r1", field="story")
    for position in range(len(ciphertext)):
        for bit in (0x01, 0x80):
            tampered = bytearray(ciphertext)
            tampered[position] ^= bit
            with pytest.raises(DecryptionError):
                decrypt_field(KEY, bytes(tampered), record_id="r1", field="story")


def test_truncated_field_fails() -> None:
    ciphertext = encrypt_field(KEY, b"x" * 40, record_id="r1", field="story")
    for cut in range(len(ciphertext)):
        with pytest.raises(DecryptionError):
            decrypt_field(KEY, ciphertext[:cut], record_id="r1", field="story")


def test_field_starts_with_version_and_data_key_id() -> None:
    from intake.crypto import data_key_id

    ciphertext = encrypt_field(KEY, b"", record_id="r1", field="f")
    assert ciphertext[0] == 1
    assert ciphertext[1:17] == data_key_id(KEY)
    assert KEY not in ciphertext
