"""Hybrid ML-KEM-768 + X25519 key pairs: sizes, determinism, and what they reveal."""

from __future__ import annotations

import pytest

from intake.crypto import PrivateKey, PublicKey
from intake.crypto.keys import PRIVATE_KEY_SIZE, PUBLIC_KEY_SIZE


def test_a_private_key_rebuilt_from_its_bytes_is_the_same_key_pair(epoch_key: PrivateKey) -> None:
    rebuilt = PrivateKey(epoch_key.to_bytes())
    assert rebuilt.public_key == epoch_key.public_key
    assert rebuilt.fingerprint == epoch_key.fingerprint
    assert len(epoch_key.to_bytes()) == PRIVATE_KEY_SIZE
    assert len(epoch_key.public_key.raw) == PUBLIC_KEY_SIZE


def test_a_public_key_rebuilt_from_its_bytes_is_equal(epoch_key: PrivateKey) -> None:
    rebuilt = PublicKey(epoch_key.public_key.raw)
    assert rebuilt == epoch_key.public_key
    assert hash(rebuilt) == hash(epoch_key.public_key)
    assert rebuilt.fingerprint == epoch_key.fingerprint


def test_generated_key_pairs_differ() -> None:
    assert PrivateKey.generate().fingerprint != PrivateKey.generate().fingerprint


@pytest.mark.parametrize("size", [0, PRIVATE_KEY_SIZE - 1, PRIVATE_KEY_SIZE + 1])
def test_a_private_key_of_the_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="96 bytes"):
        PrivateKey(bytes(size))


@pytest.mark.parametrize("size", [0, 32, PUBLIC_KEY_SIZE - 1, PUBLIC_KEY_SIZE + 1])
def test_a_public_key_of_the_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="1216 bytes"):
        PublicKey(bytes(size))


def test_key_from_seed_is_deterministic_and_bound_to_its_purpose() -> None:
    seed = bytes(range(32))
    first = PrivateKey.from_seed(seed, "recovery")
    assert first.to_bytes() == PrivateKey.from_seed(seed, "recovery").to_bytes()
    assert first.to_bytes() != PrivateKey.from_seed(seed, "family").to_bytes()
    assert first.to_bytes() != PrivateKey.from_seed(bytes(31) + b"\x01", "recovery").to_bytes()


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_key_from_seed_refuses_a_seed_of_the_wrong_size(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey.from_seed(bytes(size), "recovery")


def test_key_reprs_show_the_fingerprint_and_never_the_secret(epoch_key: PrivateKey) -> None:
    secret = epoch_key.to_bytes()
    for text in (repr(epoch_key), str(epoch_key)):
        assert text == f"PrivateKey({epoch_key.fingerprint.hex()})"
        assert secret.hex() not in text
        assert secret[:8].hex() not in text
    assert repr(epoch_key.public_key) == f"PublicKey({epoch_key.fingerprint.hex()})"


def test_private_key_has_no_instance_dict_to_leak_through() -> None:
    """`__slots__` keeps the secret out of `vars()` and naive serialisers."""
    with pytest.raises(TypeError):
        vars(PrivateKey.generate())
