"""Passphrase wrapping with Argon2id, and the login verifier stored beside it.

Every test uses the cheap INSECURE_TEST_ONLY profile except the one that
checks the default profile's parameters are stored in the blob.
"""

from __future__ import annotations

import base64
import inspect

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.crypto import (
    INSECURE_TEST_ONLY,
    MAX_PASSPHRASE_LENGTH,
    RFC_9106_LOW_MEMORY,
    DecryptionError,
    PrivateKey,
    Profile,
    WrappedKey,
    needs_rewrap,
    unlock,
    unwrap_private_key,
    wrap_private_key,
)
from intake.crypto._encoding import bind, derive
from intake.crypto.passphrase import _HEADER, _PARAMS, NONCE_SIZE, WRAPPED_SIZE, _derive, _unwrap

from .tampering import accepted_flips

PASSPHRASE = "گل‌های لاله در خاوران"  # with a zero-width non-joiner, as Persian is typed
PARAMS_AT = 17


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    """The reviewer key pair that gets wrapped."""
    return PrivateKey.generate()


@pytest.fixture(scope="module")
def wrapped(key: PrivateKey) -> WrappedKey:
    """The reviewer key wrapped under PASSPHRASE with the test profile."""
    return wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)


def test_wrapped_key_unwraps_with_its_passphrase(wrapped: WrappedKey, key: PrivateKey) -> None:
    assert len(wrapped.blob) == WRAPPED_SIZE
    assert unwrap_private_key(wrapped.blob, PASSPHRASE).to_bytes() == key.to_bytes()
    assert unlock(wrapped.blob, wrapped.verifier, PASSPHRASE).to_bytes() == key.to_bytes()


def test_wrapped_key_names_its_key_and_hides_it(wrapped: WrappedKey, key: PrivateKey) -> None:
    assert wrapped.blob[0] == 1
    assert wrapped.blob[1:17] == key.fingerprint
    assert key.to_bytes() not in wrapped.blob
    assert PASSPHRASE.encode() not in wrapped.blob
    assert wrapped.verifier not in wrapped.blob


def test_wrapping_twice_uses_a_fresh_salt_and_nonce(key: PrivateKey, wrapped: WrappedKey) -> None:
    again = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    assert again.blob[PARAMS_AT + 12:_HEADER] != wrapped.blob[PARAMS_AT + 12:_HEADER]
    assert again.verifier != wrapped.verifier


@pytest.mark.parametrize("wrong", [
    "", " ", "گل‌های لاله در خاوران ", " گل‌های لاله در خاوران", "گلهای لاله در خاوران",
    "گل‌های لاله در خاوران".upper() + "x", "password", "x" * MAX_PASSPHRASE_LENGTH,
    "x" * (MAX_PASSPHRASE_LENGTH + 1), "x" * 100_000,
], ids=["empty", "space", "trailing-space", "leading-space", "no-zwnj", "suffix", "password",
        "longest", "too-long", "far-too-long"])
def test_wrong_passphrase_does_not_unwrap(wrapped: WrappedKey, wrong: str) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped.blob, wrong)


@pytest.mark.parametrize("wrong", ["", "گلهای لاله در خاوران", PASSPHRASE[:-1], "x" * 2000])
def test_unlock_refuses_a_wrong_passphrase(wrapped: WrappedKey, wrong: str) -> None:
    with pytest.raises(DecryptionError):
        unlock(wrapped.blob, wrapped.verifier, wrong)


def test_unlock_refuses_the_right_passphrase_with_a_wrong_verifier(wrapped: WrappedKey,
                                                                   key: PrivateKey) -> None:
    other = wrap_private_key(key, PASSPHRASE, INSECURE_TEST_ONLY)
    for verifier in (bytes(32), other.verifier, wrapped.verifier[:-1], b""):
        with pytest.raises(DecryptionError):
            unlock(wrapped.blob, verifier, PASSPHRASE)


def verifier_as_text(verifier: bytes) -> list[str]:
    """Every way someone might type or paste the stored verifier as a passphrase."""
    return [
        verifier.hex(), verifier.hex().upper(), base64.b64encode(verifier).decode(),
        base64.urlsafe_b64encode(verifier).decode(),
        base64.b64encode(verifier).decode().rstrip("="),
        base64.b32encode(verifier).decode(), base64.b85encode(verifier).decode(),
        verifier.decode("latin-1"), verifier.decode("utf-8", "replace"),
        verifier.decode("utf-8", "ignore"), str(verifier), repr(verifier),
        "".join(map(chr, verifier)), "$argon2id$" + verifier.hex(),
    ]


def test_the_login_verifier_does_not_unwrap_the_key(wrapped: WrappedKey) -> None:
    for guess in verifier_as_text(wrapped.verifier):
        with pytest.raises(DecryptionError):
            unwrap_private_key(wrapped.blob, guess)
        with pytest.raises(DecryptionError):
            unlock(wrapped.blob, wrapped.verifier, guess)


def test_the_login_verifier_is_not_the_wrapping_key(wrapped: WrappedKey) -> None:
    """Used directly as the AES-GCM key, with the right nonce and associated data, it fails."""
    blob, verifier = wrapped.blob, wrapped.verifier
    header, nonce = blob[:_HEADER], blob[_HEADER - NONCE_SIZE:_HEADER]
    for candidate in (verifier, derive(verifier, "passphrase-kek"), verifier[::-1]):
        for aad in (bind("wrapped-key", header), None, header):
            with pytest.raises(InvalidTag):
                AESGCM(candidate).decrypt(nonce, blob[_HEADER:], aad)
        with pytest.raises(DecryptionError):
            _unwrap(blob, candidate)
    kek, recomputed = _derive(blob, PASSPHRASE)
    assert recomputed == verifier
    assert kek != verifier


def test_a_verifier_stored_for_another_wrapping_does_not_vouch(key: PrivateKey) -> None:
    """The blob alone would unwrap here; only the verifier check refuses."""
    first = wrap_private_key(key, "first passphrase", INSECURE_TEST_ONLY)
    second = wrap_private_key(key, "second passphrase", INSECURE_TEST_ONLY)
    assert unwrap_private_key(first.blob, "first passphrase").to_bytes() == key.to_bytes()
    with pytest.raises(DecryptionError):
        unlock(first.blob, second.verifier, "first passphrase")


def test_any_flipped_byte_of_a_wrapped_key_fails(wrapped: WrappedKey) -> None:
    assert accepted_flips(lambda blob: unwrap_private_key(blob, PASSPHRASE), wrapped.blob) == []


def test_any_flipped_byte_of_a_wrapped_key_fails_to_unlock(wrapped: WrappedKey) -> None:
    def open_(blob: bytes) -> PrivateKey:
        return unlock(blob, wrapped.verifier, PASSPHRASE)

    assert accepted_flips(open_, wrapped.blob) == []


@pytest.mark.parametrize("cut", [0, 1, 17, _HEADER, WRAPPED_SIZE - 1])
def test_a_truncated_wrapped_key_fails(wrapped: WrappedKey, cut: int) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped.blob[:cut], PASSPHRASE)


def test_a_wrapped_key_with_bytes_appended_fails(wrapped: WrappedKey) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped.blob + b"\x00", PASSPHRASE)


def test_a_wrapped_key_holding_another_key_is_refused(key: PrivateKey) -> None:
    """The fingerprint in the header must match the key that comes out."""
    other = wrap_private_key(PrivateKey.generate(), PASSPHRASE, INSECURE_TEST_ONLY)
    relabelled = other.blob[:1] + key.fingerprint + other.blob[17:]
    with pytest.raises(DecryptionError):
        unwrap_private_key(relabelled, PASSPHRASE)


def test_unicode_passphrases_are_normalised(key: PrivateKey) -> None:
    composed, decomposed = "caf\u00e9 passphrase", "cafe\u0301 passphrase"
    wrapped = wrap_private_key(key, composed, INSECURE_TEST_ONLY)
    assert unwrap_private_key(wrapped.blob, decomposed).to_bytes() == key.to_bytes()


def test_a_passphrase_over_the_limit_cannot_be_used_to_wrap(key: PrivateKey) -> None:
    with pytest.raises(ValueError, match="too long"):
        wrap_private_key(key, "x" * (MAX_PASSPHRASE_LENGTH + 1), INSECURE_TEST_ONLY)


def test_a_passphrase_that_is_not_valid_unicode_is_refused_like_any_wrong_one(
        wrapped: WrappedKey) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped.blob, b"\xff\xfe".decode("utf-8", "surrogateescape"))


def test_the_default_profile_is_stored_with_the_key(key: PrivateKey) -> None:
    """The only test that pays for RFC_9106_LOW_MEMORY (one Argon2id run, 64 MiB)."""
    default = inspect.signature(wrap_private_key).parameters["profile"].default
    assert default is RFC_9106_LOW_MEMORY
    assert (default.time_cost, default.memory_cost, default.parallelism) == (3, 65536, 4)
    wrapped = wrap_private_key(key, PASSPHRASE)
    assert _PARAMS.unpack_from(wrapped.blob, PARAMS_AT) == (3, 65536, 4)
    assert not needs_rewrap(wrapped.blob, RFC_9106_LOW_MEMORY)
    assert needs_rewrap(wrapped.blob, Profile("stronger", 4, 65536, 4))


def test_the_test_profile_is_stored_with_the_key(wrapped: WrappedKey) -> None:
    stored = _PARAMS.unpack_from(wrapped.blob, PARAMS_AT)
    profile = INSECURE_TEST_ONLY
    assert stored == (profile.time_cost, profile.memory_cost, profile.parallelism)


def test_a_key_wrapped_under_the_test_profile_needs_rewrapping(wrapped: WrappedKey) -> None:
    assert needs_rewrap(wrapped.blob, RFC_9106_LOW_MEMORY)
    assert not needs_rewrap(wrapped.blob, INSECURE_TEST_ONLY)


@pytest.mark.parametrize("params", [(0, 8, 1), (65, 8, 1), (1, 7, 1), (1, 2**31, 1), (1, 8, 0),
                                    (1, 8, 2), (1, 8 * 65, 65)])
def test_absurd_stored_parameters_are_refused_before_hashing(
        wrapped: WrappedKey, params: tuple[int, int, int]) -> None:
    blob = bytearray(wrapped.blob)
    _PARAMS.pack_into(blob, PARAMS_AT, *params)
    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(blob), PASSPHRASE)
    with pytest.raises(DecryptionError):
        needs_rewrap(bytes(blob), RFC_9106_LOW_MEMORY)
