"""HPKE sealing of submission data keys and desk epoch grants."""

from __future__ import annotations

from typing import Any

import pytest

from intake.crypto import (
    DecryptionError,
    PrivateKey,
    new_data_key,
    open_data_key,
    open_epoch_key,
    seal_data_key,
    seal_epoch_key,
    sealed_to,
)
from intake.crypto._encoding import bind
from intake.crypto.envelope import _seal

from .tampering import accepted_cuts, accepted_flips

RECORD: dict[str, Any] = {"desk_id": "main", "epoch_id": 1, "record_id": "a1b2"}
EPOCH: dict[str, Any] = {"desk_id": "main", "epoch_id": 1}
SEALED_DATA_KEY_SIZE = 1 + 16 + 1120 + 32 + 16
GRANT_SIZE = 1 + 16 + 1120 + 96 + 16


@pytest.fixture(scope="module")
def sealed(epoch_key: PrivateKey, data_key: bytes) -> bytes:
    """The data key sealed to the epoch for record a1b2."""
    return seal_data_key(data_key, epoch_key.public_key, **RECORD)


@pytest.fixture(scope="module")
def grant(epoch_key: PrivateKey, reviewer_key: PrivateKey) -> bytes:
    """Epoch 1 of the main desk granted to the reviewer."""
    return seal_epoch_key(epoch_key, reviewer_key.public_key, **EPOCH)


def open_grant(grant: bytes, reviewer_key: PrivateKey, epoch_key: PrivateKey,
               **binding: Any) -> PrivateKey:
    return open_epoch_key(grant, reviewer_key, epoch_public=epoch_key.public_key,
                          **(EPOCH | binding))


def test_sealed_data_key_round_trips(sealed: bytes, epoch_key: PrivateKey,
                                     data_key: bytes) -> None:
    assert open_data_key(sealed, epoch_key, **RECORD) == data_key


def test_sealed_data_key_starts_with_version_and_epoch_fingerprint(
        sealed: bytes, epoch_key: PrivateKey, data_key: bytes) -> None:
    assert len(sealed) == SEALED_DATA_KEY_SIZE
    assert sealed[0] == 1
    assert sealed[1:17] == epoch_key.fingerprint == sealed_to(sealed)
    assert data_key not in sealed


def test_sealing_twice_gives_different_ciphertexts(epoch_key: PrivateKey, data_key: bytes) -> None:
    first = seal_data_key(data_key, epoch_key.public_key, **RECORD)
    assert first != seal_data_key(data_key, epoch_key.public_key, **RECORD)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 96])
def test_only_a_32_byte_data_key_is_sealed(epoch_key: PrivateKey, size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal_data_key(bytes(size), epoch_key.public_key, **RECORD)


@pytest.mark.parametrize("moved", [
    {"desk_id": "other"}, {"epoch_id": 2}, {"record_id": "a1b3"}, {"record_id": "a1b"},
    {"desk_id": "mai", "record_id": "na1b2"},
], ids=["desk", "epoch", "record", "record-prefix", "shifted-boundary"])
def test_sealed_data_key_moved_to_another_record_fails(sealed: bytes, epoch_key: PrivateKey,
                                                       moved: dict[str, Any]) -> None:
    with pytest.raises(DecryptionError):
        open_data_key(sealed, epoch_key, **(RECORD | moved))


def test_sealed_data_key_does_not_open_with_another_key(sealed: bytes) -> None:
    with pytest.raises(DecryptionError):
        open_data_key(sealed, PrivateKey.generate(), **RECORD)


def test_sealed_data_key_relabelled_for_another_key_does_not_open(
        sealed: bytes, reviewer_key: PrivateKey) -> None:
    relabelled = sealed[:1] + reviewer_key.fingerprint + sealed[17:]
    with pytest.raises(DecryptionError):
        open_data_key(relabelled, reviewer_key, **RECORD)


def test_any_flipped_byte_in_a_sealed_data_key_fails(sealed: bytes,
                                                     epoch_key: PrivateKey) -> None:
    def open_(tampered: bytes) -> bytes:
        return open_data_key(tampered, epoch_key, **RECORD)

    assert accepted_flips(open_, sealed) == []


def test_a_truncated_sealed_data_key_fails_at_every_length(sealed: bytes,
                                                           epoch_key: PrivateKey) -> None:
    assert accepted_cuts(lambda cut: open_data_key(cut, epoch_key, **RECORD), sealed) == []


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * 16, b"x" * 1200])
def test_a_sealed_data_key_with_bytes_appended_fails(sealed: bytes, epoch_key: PrivateKey,
                                                     extra: bytes) -> None:
    with pytest.raises(DecryptionError):
        open_data_key(sealed + extra, epoch_key, **RECORD)


@pytest.mark.parametrize("secret_size", [31, 33, 96])
def test_a_sealed_secret_that_is_not_a_data_key_is_refused(epoch_key: PrivateKey,
                                                           secret_size: int) -> None:
    context = bind("data-key", RECORD["desk_id"], RECORD["epoch_id"], RECORD["record_id"])
    odd = _seal(bytes(secret_size), epoch_key.public_key, context)
    with pytest.raises(DecryptionError):
        open_data_key(odd, epoch_key, **RECORD)


@pytest.mark.parametrize("garbage", [b"", b"\x01", b"\x02" + bytes(16), bytes(17)])
def test_sealed_to_refuses_what_is_not_a_sealed_object(garbage: bytes) -> None:
    with pytest.raises(DecryptionError):
        sealed_to(garbage)


def test_grant_opens_to_the_epoch_key(grant: bytes, reviewer_key: PrivateKey,
                                      epoch_key: PrivateKey) -> None:
    opened = open_grant(grant, reviewer_key, epoch_key)
    assert opened.to_bytes() == epoch_key.to_bytes()
    assert opened.public_key == epoch_key.public_key


def test_grant_starts_with_version_and_recipient_fingerprint(
        grant: bytes, reviewer_key: PrivateKey, epoch_key: PrivateKey) -> None:
    assert len(grant) == GRANT_SIZE
    assert grant[0] == 1
    assert grant[1:17] == reviewer_key.fingerprint == sealed_to(grant)
    assert epoch_key.to_bytes() not in grant
    assert epoch_key.to_bytes()[:64] not in grant
    assert epoch_key.to_bytes()[64:] not in grant


@pytest.mark.parametrize("moved", [{"desk_id": "other"}, {"epoch_id": 2}, {"epoch_id": 0}],
                         ids=["desk", "epoch", "epoch-zero"])
def test_grant_moved_to_another_desk_or_epoch_fails(grant: bytes, reviewer_key: PrivateKey,
                                                    epoch_key: PrivateKey,
                                                    moved: dict[str, Any]) -> None:
    with pytest.raises(DecryptionError):
        open_grant(grant, reviewer_key, epoch_key, **moved)


def test_grant_claimed_for_another_epoch_key_fails(grant: bytes,
                                                   reviewer_key: PrivateKey) -> None:
    with pytest.raises(DecryptionError):
        open_epoch_key(grant, reviewer_key, epoch_public=PrivateKey.generate().public_key,
                       **EPOCH)


def test_grant_does_not_open_for_another_reviewer(grant: bytes, epoch_key: PrivateKey) -> None:
    with pytest.raises(DecryptionError):
        open_grant(grant, PrivateKey.generate(), epoch_key)


def test_a_grant_holding_a_different_private_key_is_refused(
        reviewer_key: PrivateKey, epoch_key: PrivateKey) -> None:
    """A grant whose context names the epoch but whose content is another key must not open."""
    impostor = PrivateKey.generate()
    context = bind("epoch-grant", "main", 1, epoch_key.fingerprint)
    forged = _seal(impostor.to_bytes(), reviewer_key.public_key, context)
    with pytest.raises(DecryptionError):
        open_grant(forged, reviewer_key, epoch_key)


def test_any_flipped_byte_in_a_grant_fails(grant: bytes, reviewer_key: PrivateKey,
                                           epoch_key: PrivateKey) -> None:
    assert accepted_flips(lambda t: open_grant(t, reviewer_key, epoch_key), grant) == []


def test_a_truncated_grant_fails_at_every_length(grant: bytes, reviewer_key: PrivateKey,
                                                 epoch_key: PrivateKey) -> None:
    assert accepted_cuts(lambda t: open_grant(t, reviewer_key, epoch_key), grant) == []


def test_a_grant_with_bytes_appended_fails(grant: bytes, reviewer_key: PrivateKey,
                                           epoch_key: PrivateKey) -> None:
    with pytest.raises(DecryptionError):
        open_grant(grant + b"\x00", reviewer_key, epoch_key)


def test_a_sealed_data_key_is_not_a_grant_and_a_grant_is_not_a_data_key(
        epoch_key: PrivateKey, reviewer_key: PrivateKey) -> None:
    """The two formats share a layout; their contexts keep them apart."""
    data_key_for_reviewer = seal_data_key(new_data_key(), reviewer_key.public_key, **RECORD)
    with pytest.raises(DecryptionError):
        open_grant(data_key_for_reviewer, reviewer_key, epoch_key)
    grant = seal_epoch_key(epoch_key, reviewer_key.public_key, **EPOCH)
    with pytest.raises(DecryptionError):
        open_data_key(grant, reviewer_key, **RECORD)


def test_every_failure_says_the_same_thing(sealed: bytes, epoch_key: PrivateKey) -> None:
    messages = set()
    # The last byte flipped, not zeroed: a ciphertext ending in 0x00 (1 in 256) would not change.
    for bad in (sealed[:10], b"\x02" + sealed[1:], sealed[:-1] + bytes([sealed[-1] ^ 1])):
        with pytest.raises(DecryptionError) as failure:
            open_data_key(bad, epoch_key, **RECORD)
        messages.add(str(failure.value))
    with pytest.raises(DecryptionError) as failure:
        open_data_key(sealed, epoch_key, **(RECORD | {"record_id": "zz"}))
    messages.add(str(failure.value))
    assert messages == {"the ciphertext could not be decrypted"}
