"""Passphrase wrapping with Argon2id, and the login verifier beside it."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.crypto import (
    INSECURE_TEST_ONLY,
    RFC_9106_LOW_MEMORY,
    DecryptionError,
    PrivateKey,
    needs_rewrap,
    unlock,
    unwrap_private_key,
    wrap_private_key,
)
from intake.crypto.passphrase import _HEADER, _PARAMS, NONCE_SIZE

PASSPHRASE = "گل‌های لاله در خاوران"


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return PrivateKey.generate()


def test_wrapped_key_unwraps_with_its_passphrase(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    assert unwrap_private_key(wrapped.blob, PASSPHRASE).to_bytes() == key.to_bytes()
    assert unlock(wrapped.blob, wrapped.verifier, PASSPHRASE).to_bytes() == key.to_bytes()


@pytest.mark.parametrize("wrong", ["", "گل‌های لاله در خاوران ", "گلهای لاله در خاوران",
                                   "password", "x" * 2000])
def test_wrong_passphrase_does_not_unwrap(key: PrivateKey, wrong: str) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped.blob, wrong)
    with pytest.raises(DecryptionError):
        unlock(wrapped.blob, wrapped.verifier, wrong)


def test_the_login_verifier_does_not_unwrap_the_key(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    verifier = wrapped.verifier
    for guess in (verifier.hex(), verifier.decode("latin-1")):
        with pytest.raises(DecryptionError):
            unwrap_private_key(wrapped.blob, guess)
    nonce = wrapped.blob[_HEADER - NONCE_SIZE:_HEADER]
    with pytest.raises(InvalidTag):
        AESGCM(verifier).decrypt(nonce, wrapped.blob[_HEADER:], None)
    assert key.to_bytes() not in wrapped.blob
    assert verifier not in wrapped.blob


def test_a_wrong_verifier_refuses_the_right_passphrase(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    with pytest.raises(DecryptionError):
        unlock(wrapped.blob, bytes(32), PASSPHRASE)


def test_any_flipped_byte_of_a_wrapped_key_fails(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    for position in range(len(wrapped.blob)):
        tampered = bytearray(wrapped.blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            unwrap_private_key(bytes(tampered), PASSPHRASE)


def test_unicode_passphrases_are_normalised(key: PrivateKey) -> None:
    composed, decomposed = "caf\u00e9 passphrase", "cafe\u0301 passphrase"
    wrapped = wrap_private_key(key, composed, INSECURE_TEST_ONLY)
    assert unwrap_private_key(wrapped.blob, decomposed).to_bytes() == key.to_bytes()


def test_default_profile_parameters_are_stored_with_the_key(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE)
    assert _PARAMS.unpack_from(wrapped.blob, 17) == (3, 65536, 4)
    assert not needs_rewrap(wrapped.blob, RFC_9106_LOW_MEMORY)


def test_a_key_wrapped_under_a_cheaper_profile_needs_rewrapping(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    assert needs_rewrap(wrapped.blob, RFC_9106_LOW_MEMORY)
    assert not needs_rewrap(wrapped.blob, INSECURE_TEST_ONLY)


def test_absurd_stored_parameters_are_refused_before_hashing(key: PrivateKey) -> None:
    wrapped = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    blob = bytearray(wrapped.blob)
    _PARAMS.pack_into(blob, 17, 1, 2**31, 1)
    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(blob), PASSPHRASE)
