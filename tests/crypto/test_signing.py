"""Hybrid Ed25519 + ML-DSA-65 signatures: both halves, one use, one error."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto._encoding import bind
from intake.crypto.recovery import recovery_key, recovery_signing_key
from intake.crypto.signing import (
    SignatureError,
    SigningPrivateKey,
    SigningPublicKey,
    Use,
    format_fingerprint,
    parse_fingerprint,
)

KEY = SigningPrivateKey.from_seed(bytes(32), "test")
OTHER = SigningPrivateKey.from_seed(bytes([1]) * 32, "test")
MESSAGE = b"epoch 3 of desk main"
SIGNATURE = KEY.sign(MESSAGE, Use.CERTIFICATE)


def test_a_signature_verifies_for_its_key_message_and_use() -> None:
    KEY.public_key.verify(SIGNATURE, MESSAGE, Use.CERTIFICATE)


def test_encodings_start_with_version_one_and_have_fixed_sizes() -> None:
    assert KEY.public_key.raw[0] == 1
    assert len(KEY.public_key.raw) == 1985
    assert SIGNATURE[0] == 1
    assert len(SIGNATURE) == 3374


@pytest.mark.parametrize(("position", "half"), [
    (1, "ed25519 first byte"), (64, "ed25519 last byte"),
    (65, "ml-dsa first byte"), (3373, "ml-dsa last byte"),
])
def test_a_signature_with_one_half_edited_is_refused(position: int, half: str) -> None:
    """Flip one byte of one half; the other half still verifies alone."""
    edited = bytearray(SIGNATURE)
    edited[position] ^= 1
    with pytest.raises(SignatureError, match="^the signature is not valid$"):
        KEY.public_key.verify(bytes(edited), MESSAGE, Use.CERTIFICATE)


def test_a_signature_with_a_valid_half_from_another_signature_is_refused() -> None:
    """Splice this key's Ed25519 half onto another message's ML-DSA half."""
    other = KEY.sign(b"another message", Use.CERTIFICATE)
    spliced = SIGNATURE[:65] + other[65:]
    with pytest.raises(SignatureError):
        KEY.public_key.verify(spliced, MESSAGE, Use.CERTIFICATE)
    spliced = other[:65] + SIGNATURE[65:]
    with pytest.raises(SignatureError):
        KEY.public_key.verify(spliced, MESSAGE, Use.CERTIFICATE)


def test_a_key_sharing_one_half_does_not_verify_the_other_keys_signature() -> None:
    """A public key with this Ed25519 half and another ML-DSA half is a different signer."""
    mixed = SigningPublicKey(KEY.public_key.raw[:33] + OTHER.public_key.raw[33:])
    with pytest.raises(SignatureError):
        mixed.verify(SIGNATURE, MESSAGE, Use.CERTIFICATE)


def test_a_certificate_signature_does_not_verify_as_an_audit_checkpoint() -> None:
    with pytest.raises(SignatureError):
        KEY.public_key.verify(SIGNATURE, MESSAGE, Use.AUDIT_CHECKPOINT)


@pytest.mark.parametrize("bad", [
    b"", SIGNATURE[:-1], SIGNATURE + b"\0", bytes([2]) + SIGNATURE[1:], bytes([0]) + SIGNATURE[1:],
], ids=["empty", "short", "long", "version-2", "version-0"])
def test_a_signature_of_the_wrong_size_or_version_is_refused(bad: bytes) -> None:
    with pytest.raises(SignatureError):
        KEY.public_key.verify(bad, MESSAGE, Use.CERTIFICATE)


def test_another_key_or_message_is_refused() -> None:
    with pytest.raises(SignatureError):
        OTHER.public_key.verify(SIGNATURE, MESSAGE, Use.CERTIFICATE)
    with pytest.raises(SignatureError):
        KEY.public_key.verify(SIGNATURE, MESSAGE + b".", Use.CERTIFICATE)


@pytest.mark.parametrize("raw", [b"", bytes(1985), bytes([2]) + bytes(1984)],
                         ids=["empty", "version-0", "version-2"])
def test_a_public_key_of_the_wrong_size_or_version_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match="version 1 hybrid signing public key"):
        SigningPublicKey(raw)


def test_seed_derivation_is_deterministic_and_separated_by_purpose() -> None:
    assert SigningPrivateKey.from_seed(bytes(32), "test").to_bytes() == KEY.to_bytes()
    assert SigningPrivateKey.from_seed(bytes(32), "other").to_bytes() != KEY.to_bytes()
    with pytest.raises(ValueError, match="32 bytes"):
        SigningPrivateKey.from_seed(bytes(31), "test")


def test_the_recovery_signing_key_comes_from_the_printed_secret_alone() -> None:
    secret = bytes(range(32))
    assert recovery_signing_key(secret).public_key == recovery_signing_key(secret).public_key
    assert recovery_signing_key(secret).to_bytes() != recovery_key(secret).to_bytes()[:64]
    assert recovery_signing_key(secret).public_key != recovery_signing_key(bytes(32)).public_key


def test_the_fingerprint_is_sha256_of_the_encoded_public_key() -> None:
    assert KEY.fingerprint == hashlib.sha256(KEY.public_key.raw).digest()


def test_a_fingerprint_reads_aloud_as_thirteen_groups_and_back() -> None:
    text = format_fingerprint(KEY.fingerprint)
    assert len(text.split("-")) == 13
    assert parse_fingerprint(text.lower().replace("-", " ")) == KEY.fingerprint
    with pytest.raises(ValueError, match="52 characters"):
        parse_fingerprint(text[:-5])


@settings(max_examples=10, deadline=None)
@given(message=st.binary(max_size=256), seed=st.binary(min_size=32, max_size=32))
def test_any_message_signed_by_any_seeded_key_verifies(message: bytes, seed: bytes) -> None:
    key = SigningPrivateKey.from_seed(seed, "test")
    key.public_key.verify(key.sign(message, Use.AUDIT_CHECKPOINT), message, Use.AUDIT_CHECKPOINT)


def test_the_ed25519_half_alone_signs_the_use_the_key_and_the_message() -> None:
    """The Ed25519 half has no context parameter, so the use must be in its bytes."""
    ed = ed25519.Ed25519PublicKey.from_public_bytes(KEY.public_key.raw[1:33])
    ed.verify(SIGNATURE[1:65], bind("signature", "certificate", KEY.public_key.raw, MESSAGE))
    with pytest.raises(InvalidSignature):
        ed.verify(SIGNATURE[1:65],
                  bind("signature", "audit-checkpoint", KEY.public_key.raw, MESSAGE))
