"""Later generations of a record's data key: sealed bound to their number, read by any."""

from __future__ import annotations

from typing import Any

import pytest

from intake.crypto import (
    CaseKeys,
    DecryptionError,
    PrivateKey,
    decrypt_field,
    new_data_key,
    open_case_key,
    open_data_key,
    seal_case_key,
)

GENERATION: dict[str, Any] = {"desk_id": "main", "epoch_id": 2, "record_id": "a1b2",
                              "generation": 1}


def test_a_sealed_generation_opens_only_with_its_epoch_record_and_number(
        epoch_key: PrivateKey) -> None:
    key = new_data_key()
    sealed = seal_case_key(key, epoch_key.public_key, **GENERATION)
    assert open_case_key(sealed, epoch_key, **GENERATION) == key
    for moved in ({"generation": 2}, {"record_id": "c3d4"}, {"epoch_id": 3},
                  {"desk_id": "other"}):
        with pytest.raises(DecryptionError):
            open_case_key(sealed, epoch_key, **(GENERATION | moved))
    with pytest.raises(DecryptionError):
        open_case_key(sealed, PrivateKey.generate(), **GENERATION)


def test_a_generation_is_never_taken_for_the_data_key_sealed_at_submission(
        epoch_key: PrivateKey) -> None:
    """Swapping a generation row into the submission's sealed key must not open."""
    sealed = seal_case_key(new_data_key(), epoch_key.public_key, **GENERATION)
    with pytest.raises(DecryptionError):
        open_data_key(sealed, epoch_key, desk_id="main", epoch_id=2, record_id="a1b2")


@pytest.mark.parametrize("generation", [0, -1])
def test_generation_zero_is_the_data_key_and_cannot_be_sealed_as_a_generation(
        epoch_key: PrivateKey, generation: int) -> None:
    with pytest.raises(ValueError, match="generation 1 or later"):
        seal_case_key(new_data_key(), epoch_key.public_key,
                      **(GENERATION | {"generation": generation}))


def test_case_keys_write_under_the_newest_and_read_under_any() -> None:
    old, new = new_data_key(), new_data_key()
    keys = CaseKeys((old, new))
    written = keys.encrypt(b"note", record_id="a1b2", field="note:1")
    assert decrypt_field(new, written, record_id="a1b2", field="note:1") == b"note"
    with pytest.raises(DecryptionError):
        decrypt_field(old, written, record_id="a1b2", field="note:1")
    earlier = CaseKeys((old,)).encrypt(b"first", record_id="a1b2", field="labels")
    assert keys.decrypt(earlier, record_id="a1b2", field="labels") == b"first"
    with pytest.raises(DecryptionError):
        keys.decrypt(earlier, record_id="a1b2", field="assessment")
    assert (keys.first, keys.newest, keys.newest_generation) == (old, new, 1)
