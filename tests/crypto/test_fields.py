"""AES-256-GCM field encryption, bound to its data key, record and field."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto import (
    DecryptionError,
    data_key_id,
    decrypt_field,
    encrypt_field,
    new_data_key,
)
from intake.crypto._encoding import bind, derive
from intake.crypto.fields import _encrypt_field

from .tampering import accepted_cuts, accepted_flips

KEY = new_data_key()
STORY = "شب ۱۳۶۷ که او را بردند".encode()


def encrypt(plaintext: bytes = STORY, record_id: str = "r1", field: str = "story") -> bytes:
    return encrypt_field(KEY, plaintext, record_id=record_id, field=field)


def decrypt(ciphertext: bytes, record_id: str = "r1", field: str = "story") -> bytes:
    return decrypt_field(KEY, ciphertext, record_id=record_id, field=field)


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=5000), record_id=st.text(max_size=40),
       field=st.text(max_size=40))
def test_any_field_round_trips(plaintext: bytes, record_id: str, field: str) -> None:
    ciphertext = encrypt(plaintext, record_id, field)
    assert decrypt(ciphertext, record_id, field) == plaintext


@pytest.mark.parametrize(("sizes", "stored"), [
    # version, key id, nonce, tag (45 bytes) around a padded plaintext of 1 KiB at least.
    ((0, 1, 900, 959, 1020), 1024 + 45),
    ((1085, 1100, 1148), 1152 + 45),
    ((8000, 8188), 8192 + 45),
])
def test_fields_of_different_lengths_are_stored_at_one_padded_length(
        sizes: tuple[int, ...], stored: int) -> None:
    """Answers of 898 to 959 bytes once gave ciphertexts of 898 + 45 to 959 + 45 bytes."""
    for size in sizes:
        ciphertext = encrypt(b"a" * size)
        assert len(ciphertext) == stored, size
        assert decrypt(ciphertext) == b"a" * size


@settings(max_examples=200, deadline=None)
@given(size=st.integers(min_value=0, max_value=200_000))
def test_padding_adds_at_most_an_eighth_beyond_the_first_kib(size: int) -> None:
    stored = len(encrypt(bytes(size))) - 45
    assert stored >= max(size + 4, 1024)
    assert stored <= max(1024, (size + 4) * 9 // 8)


def test_a_field_of_the_unpadded_first_format_still_decrypts() -> None:
    old = _encrypt_field(KEY, STORY, "r1", "story", bytes(12), 1)
    assert len(old) == len(STORY) + 45
    assert decrypt(old) == STORY


def test_a_padded_field_relabelled_as_the_unpadded_format_does_not_open() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b"\x01" + encrypt()[1:])


def test_a_padded_field_whose_sealed_length_disagrees_with_its_padding_does_not_open() -> None:
    """Authenticated but not canonical: a length beyond the text, or bytes in the padding."""
    aead = AESGCM(derive(KEY, "field-key"))
    header = b"\x02" + data_key_id(KEY)
    for body in ((2000).to_bytes(4, "big") + bytes(1020), (3).to_bytes(4, "big") + b"abc"
                 + b"\x01" + bytes(1016), (3).to_bytes(4, "big") + b"abc" + bytes(2041)):
        forged = header + bytes(12) + aead.encrypt(bytes(12), body,
                                                   header + bind("field", "r1", "story"))
        with pytest.raises(DecryptionError):
            decrypt(forged)


@settings(max_examples=100, deadline=None)
@given(record_id=st.one_of(st.just("r1"), st.text(max_size=12)),
       field=st.one_of(st.just("story"), st.text(max_size=12)))
def test_a_field_opens_under_no_other_record_and_field(record_id: str, field: str) -> None:
    """Either half of the binding alone, kept right, must not be enough."""
    if (record_id, field) == ("r1", "story"):
        return
    with pytest.raises(DecryptionError):
        decrypt(encrypt(), record_id, field)


@pytest.mark.parametrize(("record_id", "field"), [
    ("r2", "story"), ("r1", "name"), ("r1", "story "), ("R1", "story"), ("", "r1story"),
    ("r1s", "tory"), ("r", "1story"),
])
def test_field_moved_to_another_record_or_field_fails(record_id: str, field: str) -> None:
    with pytest.raises(DecryptionError):
        decrypt(encrypt(), record_id, field)


def test_field_does_not_open_with_another_data_key() -> None:
    ciphertext = encrypt()
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), ciphertext, record_id="r1", field="story")


def test_field_relabelled_with_another_data_key_id_does_not_open() -> None:
    other = new_data_key()
    relabelled = encrypt()[:1] + data_key_id(other) + encrypt()[17:]
    with pytest.raises(DecryptionError):
        decrypt_field(other, relabelled, record_id="r1", field="story")


def test_any_flipped_byte_in_a_field_fails() -> None:
    assert accepted_flips(decrypt, encrypt()) == []


def test_any_flipped_byte_in_an_empty_field_fails() -> None:
    assert accepted_flips(decrypt, encrypt(b"")) == []


def test_a_truncated_field_fails_at_every_length() -> None:
    assert accepted_cuts(decrypt, encrypt()) == []


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 16])
def test_a_field_with_bytes_appended_fails(extra: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt(encrypt() + extra)


def test_two_encryptions_of_one_field_use_different_nonces() -> None:
    first, second = encrypt(), encrypt()
    assert first[17:29] != second[17:29]
    assert first != second


def test_field_starts_with_version_and_data_key_id_and_hides_the_key() -> None:
    ciphertext = encrypt()
    assert ciphertext[0] == 2
    assert ciphertext[1:17] == data_key_id(KEY)
    assert KEY not in ciphertext
    assert STORY not in ciphertext
    assert data_key_id(KEY) != KEY[:16]


def test_data_key_ids_differ_between_keys() -> None:
    assert data_key_id(new_data_key()) != data_key_id(new_data_key())
