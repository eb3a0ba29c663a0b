"""HPKE sealing of data keys and epoch grants."""

from __future__ import annotations

import pytest

from intake.crypto import (
    DecryptionError,
    PrivateKey,
    open_data_key,
    open_epoch_key,
    seal_data_key,
    seal_epoch_key,
    sealed_to,
)

BINDING = {"desk_id": "main", "epoch_id": 1, "record_id": "a1b2"}


def test_sealed_data_key_round_trips(epoch_key: PrivateKey, data_key: bytes) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    assert open_data_key(sealed, epoch_key, **BINDING) == data_key


def test_sealed_data_key_names_its_epoch_key(epoch_key: PrivateKey, data_key: bytes) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    assert sealed[0] == 1
    assert sealed_to(sealed) == epoch_key.fingerprint
    assert data_key not in sealed


def test_sealing_twice_gives_different_ciphertexts(epoch_key: PrivateKey, data_key: bytes) -> None:
    first = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    assert first != seal_data_key(data_key, epoch_key.public_key, **BINDING)


@pytest.mark.parametrize("moved", [
    {"desk_id": "other"}, {"epoch_id": 2}, {"record_id": "a1b3"},
])
def test_sealed_data_key_moved_to_another_record_fails(epoch_key: PrivateKey, data_key: bytes,
                                                       moved: dict[str, object]) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    with pytest.raises(DecryptionError):
        open_data_key(sealed, epoch_key, **(BINDING | moved))  # type: ignore[arg-type]


def test_sealed_data_key_does_not_open_with_another_key(epoch_key: PrivateKey,
                                                        data_key: bytes) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    with pytest.raises(DecryptionError):
        open_data_key(sealed, PrivateKey.generate(), **BINDING)


def test_any_flipped_byte_in_a_sealed_data_key_fails(epoch_key: PrivateKey,
                                                     data_key: bytes) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    for position in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            open_data_key(bytes(tampered), epoch_key, **BINDING)


@pytest.mark.parametrize("cut", [0, 1, 17, 100, -1])
def test_truncated_sealed_data_key_fails(epoch_key: PrivateKey, data_key: bytes, cut: int) -> None:
    sealed = seal_data_key(data_key, epoch_key.public_key, **BINDING)
    with pytest.raises(DecryptionError):
        open_data_key(sealed[:cut], epoch_key, **BINDING)


def test_grant_opens_to_the_epoch_key(epoch_key: PrivateKey, reviewer_key: PrivateKey) -> None:
    grant = seal_epoch_key(epoch_key, reviewer_key.public_key, desk_id="main", epoch_id=1)
    opened = open_epoch_key(grant, reviewer_key, desk_id="main", epoch_id=1,
                            epoch_public=epoch_key.public_key)
    assert opened.to_bytes() == epoch_key.to_bytes()
    assert sealed_to(grant) == reviewer_key.fingerprint
    assert epoch_key.to_bytes() not in grant


def test_grant_for_another_epoch_is_refused(epoch_key: PrivateKey,
                                            reviewer_key: PrivateKey) -> None:
    grant = seal_epoch_key(epoch_key, reviewer_key.public_key, desk_id="main", epoch_id=1)
    with pytest.raises(DecryptionError):
        open_epoch_key(grant, reviewer_key, desk_id="main", epoch_id=2,
                       epoch_public=epoch_key.public_key)
    with pytest.raises(DecryptionError):
        open_epoch_key(grant, reviewer_key, desk_id="main", epoch_id=1,
                       epoch_public=PrivateKey.generate().public_key)


def test_any_flipped_byte_in_a_grant_fails(epoch_key: PrivateKey,
                                           reviewer_key: PrivateKey) -> None:
    grant = seal_epoch_key(epoch_key, reviewer_key.public_key, desk_id="main", epoch_id=1)
    for position in range(len(grant)):
        tampered = bytearray(grant)
        tampered[position] ^= 0x80
        with pytest.raises(DecryptionError):
            open_epoch_key(bytes(tampered), reviewer_key, desk_id="main", epoch_id=1,
                           epoch_public=epoch_key.public_key)


def test_private_key_repr_does_not_show_the_secret(epoch_key: PrivateKey) -> None:
    assert epoch_key.to_bytes().hex() not in repr(epoch_key)
    assert repr(epoch_key) == f"PrivateKey({epoch_key.fingerprint.hex()})"


def test_key_from_seed_is_deterministic_and_purpose_bound() -> None:
    seed = bytes(range(32))
    assert PrivateKey.from_seed(seed, "a").to_bytes() == PrivateKey.from_seed(seed, "a").to_bytes()
    assert PrivateKey.from_seed(seed, "a").to_bytes() != PrivateKey.from_seed(seed, "b").to_bytes()
