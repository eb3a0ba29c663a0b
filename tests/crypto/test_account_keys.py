"""Version 2 wrapped keys: HPKE key, signing key and pinned root under one passphrase."""

from __future__ import annotations

import pytest

from intake.crypto import INSECURE_TEST_ONLY, DecryptionError, PrivateKey, unlock, wrap_private_key
from intake.crypto.passphrase import (
    _HEADER,
    WRAPPED_SIZE,
    AccountKeys,
    WrappedKey,
    _wrap,
    needs_rewrap,
    needs_upgrade,
    unlock_account,
    wrap_account_keys,
)
from intake.crypto.signing import SigningPrivateKey

from .tampering import accepted_flips

PASSPHRASE = "گل‌های لاله در خاوران"
KEY = PrivateKey.from_seed(bytes(32), "account-test")
SIGNING = SigningPrivateKey.from_seed(bytes(32), "account-test")
ROOT = bytes(range(32))


@pytest.fixture(scope="module")
def wrapped() -> WrappedKey:
    """Both keys and ROOT wrapped under PASSPHRASE with the test profile."""
    return wrap_account_keys(KEY, SIGNING, ROOT, PASSPHRASE, INSECURE_TEST_ONLY)


def test_a_version_2_blob_unlocks_both_keys_and_the_root(wrapped: WrappedKey) -> None:
    keys = unlock_account(wrapped.blob, wrapped.verifier, PASSPHRASE)
    assert wrapped.blob[0] == 2
    assert len(wrapped.blob) == 1 + 16 + 12 + 16 + 12 + 96 + 64 + 32 + 16
    assert keys.key.to_bytes() == KEY.to_bytes()
    assert keys.signing_key is not None
    assert keys.signing_key.to_bytes() == SIGNING.to_bytes()
    assert keys.root == ROOT
    assert not needs_upgrade(wrapped.blob)


def test_a_version_2_blob_hides_the_signing_key_and_the_root(wrapped: WrappedKey) -> None:
    assert SIGNING.to_bytes()[:16] not in wrapped.blob
    assert ROOT[:16] not in wrapped.blob
    assert repr(unlock_account(wrapped.blob, wrapped.verifier, PASSPHRASE)).count(ROOT.hex()) == 0


def test_existing_callers_still_get_the_hpke_key_from_a_version_2_blob(
        wrapped: WrappedKey) -> None:
    assert unlock(wrapped.blob, wrapped.verifier, PASSPHRASE).to_bytes() == KEY.to_bytes()
    assert not needs_rewrap(wrapped.blob, INSECURE_TEST_ONLY)


def test_a_version_1_blob_still_unlocks_with_no_signing_key_and_no_root() -> None:
    old = wrap_private_key(KEY, PASSPHRASE, INSECURE_TEST_ONLY)
    keys = unlock_account(old.blob, old.verifier, PASSPHRASE)
    assert (keys.key.to_bytes(), keys.signing_key, keys.root) == (KEY.to_bytes(), None, None)
    assert needs_upgrade(old.blob)


def test_any_flipped_byte_of_a_version_2_blob_fails_to_unlock(wrapped: WrappedKey) -> None:
    """The root is inside the authenticated ciphertext: no byte can change it unnoticed."""
    def open_(blob: bytes) -> AccountKeys:
        return unlock_account(blob, wrapped.verifier, PASSPHRASE)

    assert accepted_flips(open_, wrapped.blob, masks=(0x01,)) == []


def test_a_version_2_blob_relabelled_version_1_and_cut_to_size_fails(
        wrapped: WrappedKey) -> None:
    """Dropping the signing key and root by calling the blob version 1 is refused."""
    relabelled = bytes([1]) + wrapped.blob[1:WRAPPED_SIZE]
    with pytest.raises(DecryptionError):
        unlock_account(relabelled, wrapped.verifier, PASSPHRASE)


def test_a_version_2_header_on_a_version_1_ciphertext_fails() -> None:
    """Claiming a pinned root for a blob that never had one is refused."""
    old = wrap_private_key(KEY, PASSPHRASE, INSECURE_TEST_ONLY)
    padded = bytes([2]) + old.blob[1:] + bytes(96)
    with pytest.raises(DecryptionError):
        unlock_account(padded, old.verifier, PASSPHRASE)


def test_the_root_must_be_a_32_byte_fingerprint() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_account_keys(KEY, SIGNING, ROOT[:16], PASSPHRASE, INSECURE_TEST_ONLY)


def test_a_wrong_passphrase_does_not_unlock_a_version_2_blob(wrapped: WrappedKey) -> None:
    with pytest.raises(DecryptionError):
        unlock_account(wrapped.blob, wrapped.verifier, PASSPHRASE + " ")


def test_the_seam_is_deterministic_for_vectors() -> None:
    one = _wrap(KEY, PASSPHRASE, INSECURE_TEST_ONLY, bytes(16), bytes(12), signed=(SIGNING, ROOT))
    two = _wrap(KEY, PASSPHRASE, INSECURE_TEST_ONLY, bytes(16), bytes(12), signed=(SIGNING, ROOT))
    assert one == two
    assert one.blob[:_HEADER] == bytes([2]) + KEY.fingerprint + one.blob[17:_HEADER]


@pytest.mark.parametrize("version", [0, 3, 255])
def test_an_unknown_version_of_either_size_is_refused_before_any_work(
        wrapped: WrappedKey, version: int) -> None:
    old = wrap_private_key(KEY, PASSPHRASE, INSECURE_TEST_ONLY)
    for blob in (wrapped.blob, old.blob):
        with pytest.raises(DecryptionError):
            needs_upgrade(bytes([version]) + blob[1:])
