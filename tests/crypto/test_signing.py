"""Hybrid signatures: valid only when the Ed25519 and the ML-DSA-65 halves both verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto import (
    SignatureError,
    SigningKey,
    SigningPublicKey,
    readable_fingerprint,
    recovery_key,
    recovery_signing_key,
)

VECTOR = json.loads((Path(__file__).parent / "vectors" / "signing.json").read_text())
MESSAGE = b"epoch 2 of desk main has public key 0a0b"
KEY = SigningKey.from_seed(bytes(range(32)), "test")
SIGNATURE = KEY.sign(MESSAGE, "certificate")
ED_HALF, ML_HALF = slice(1, 65), slice(65, None)


def test_the_stored_vector_derives_the_same_public_key_and_its_signature_verifies() -> None:
    key = SigningKey.from_seed(bytes.fromhex(VECTOR["seed"]), VECTOR["purpose"])
    assert key.public_key.raw.hex() == VECTOR["public_key"]
    assert key.fingerprint.hex() == "c774d0b810ce85a0d013207df7177eac"
    SigningPublicKey(bytes.fromhex(VECTOR["public_key"])).verify(
        bytes.fromhex(VECTOR["signature"]), bytes.fromhex(VECTOR["message"]),
        VECTOR["context"])


def test_a_signature_is_a_version_byte_and_both_halves() -> None:
    assert len(SIGNATURE) == 1 + 64 + 3309
    assert SIGNATURE[0] == 1
    KEY.public_key.verify(SIGNATURE, MESSAGE, "certificate")


@pytest.mark.parametrize("half", [ED_HALF, ML_HALF], ids=["ed25519", "ml-dsa-65"])
def test_a_flipped_byte_in_either_half_alone_is_refused(half: slice) -> None:
    """A valid Ed25519 half must not carry a broken ML-DSA half, nor the other way round."""
    broken = bytearray(SIGNATURE)
    broken[half.start + 5] ^= 1
    with pytest.raises(SignatureError):
        KEY.public_key.verify(bytes(broken), MESSAGE, "certificate")


def test_halves_taken_from_signatures_of_two_messages_are_refused() -> None:
    other = KEY.sign(b"epoch 2 of desk main has public key ffff", "certificate")
    mixed = SIGNATURE[:65] + other[65:]
    with pytest.raises(SignatureError):
        KEY.public_key.verify(mixed, MESSAGE, "certificate")


@pytest.mark.parametrize(("signature", "message", "context"), [
    (SIGNATURE, MESSAGE + b"!", "certificate"),
    (SIGNATURE, MESSAGE, "audit-checkpoint"),
    (b"\x02" + SIGNATURE[1:], MESSAGE, "certificate"),
    (SIGNATURE[:-1], MESSAGE, "certificate"),
    (SIGNATURE + b"\x00", MESSAGE, "certificate"),
    (b"", MESSAGE, "certificate"),
], ids=["edited message", "other use", "unknown version", "truncated", "extended", "empty"])
def test_a_signature_verifies_only_for_its_message_its_use_and_its_format(
        signature: bytes, message: bytes, context: str) -> None:
    with pytest.raises(SignatureError):
        KEY.public_key.verify(signature, message, context)


def test_another_keys_signature_is_refused() -> None:
    with pytest.raises(SignatureError):
        SigningKey.generate().public_key.verify(SIGNATURE, MESSAGE, "certificate")


def test_an_unknown_use_is_refused_before_signing_or_verifying() -> None:
    with pytest.raises(ValueError, match="unknown signature context"):
        KEY.sign(MESSAGE, "anything")
    with pytest.raises(ValueError, match="unknown signature context"):
        KEY.public_key.verify(SIGNATURE, MESSAGE, "anything")


def test_the_recovery_secret_gives_one_signing_key_unrelated_to_its_encryption_key() -> None:
    secret = bytes(range(32, 64))
    assert recovery_signing_key(secret).public_key == recovery_signing_key(secret).public_key
    assert recovery_signing_key(secret).fingerprint != recovery_key(secret).fingerprint
    assert recovery_signing_key(secret).to_bytes()[:32] != recovery_key(secret).to_bytes()[:32]
    assert SigningKey.from_seed(secret, "other").public_key != (
        recovery_signing_key(secret).public_key)


def test_a_fingerprint_reads_aloud_in_groups_of_four() -> None:
    assert readable_fingerprint(bytes.fromhex("c774d0b810ce85a0d013207df7177eac")) == (
        "C774 D0B8 10CE 85A0 D013 207D F717 7EAC")


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(SIGNATURE) - 1), st.integers(1, 255))
def test_any_single_changed_byte_is_refused(position: int, flip: int) -> None:
    broken = bytearray(SIGNATURE)
    broken[position] ^= flip
    with pytest.raises(SignatureError):
        KEY.public_key.verify(bytes(broken), MESSAGE, "certificate")
