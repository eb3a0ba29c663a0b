"""The search index key: derived from an epoch's private key, bound to its desk and epoch."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from intake.crypto import DecryptionError, IndexKey, PrivateKey
from intake.crypto.index import index_key_bytes

EPOCH_KEY = PrivateKey(bytes(range(96)))


def test_the_index_key_is_hkdf_of_the_epoch_private_key_bound_to_desk_and_epoch() -> None:
    """Computed here with HKDF-SHA256 and the binding spelled out byte by byte."""
    info = (b"intake/" + b"\x00\x00\x00\x10search-index-key" + b"\x00\x00\x00\x04main"
            + b"\x00\x00\x00\x011")
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=info).derive(bytes(range(96)))
    assert index_key_bytes(EPOCH_KEY, desk_id="main", epoch_id=1) == expected
    assert index_key_bytes(EPOCH_KEY, desk_id="main", epoch_id=2) != expected
    assert index_key_bytes(EPOCH_KEY, desk_id="other", epoch_id=1) != expected


def test_a_row_opens_only_under_the_same_desk_and_epoch_and_case() -> None:
    sealed = IndexKey(EPOCH_KEY, desk_id="main", epoch_id=1).encrypt(b"text", record_id="a1")
    assert IndexKey(EPOCH_KEY, desk_id="main", epoch_id=1).decrypt(sealed, record_id="a1") == (
        b"text")
    for desk, epoch, record in (("main", 2, "a1"), ("other", 1, "a1"), ("main", 1, "a2")):
        with pytest.raises(DecryptionError):
            IndexKey(EPOCH_KEY, desk_id=desk, epoch_id=epoch).decrypt(sealed, record_id=record)


@pytest.mark.parametrize(("shorter", "longer"), [(0, 240), (241, 252), (500, 508)])
def test_rows_of_close_lengths_are_stored_alike_from_a_256_byte_floor(shorter: int,
                                                                      longer: int) -> None:
    """Up to 252 bytes of text (with the 4-byte length, 256) every row is alike; above, the
    length is rounded up with Padme: 16-byte steps up to 512, 32-byte steps up to 1024."""
    key = IndexKey(EPOCH_KEY, desk_id="main", epoch_id=1)
    assert len(key.encrypt(b"x" * shorter, record_id="a")) == len(
        key.encrypt(b"x" * longer, record_id="a"))
    assert len(key.encrypt(b"x" * 253, record_id="a")) == len(
        key.encrypt(b"x" * 252, record_id="a")) + 16


def test_decrypting_many_rows_gives_none_for_each_tampered_moved_or_foreign_row_only() -> None:
    """The bulk path a search takes refuses what the one-by-one path refuses."""
    key = IndexKey(EPOCH_KEY, desk_id="main", epoch_id=1)
    good = {name: key.encrypt(name.encode(), record_id=name) for name in ("a", "b", "c", "d")}
    flipped = bytearray(good["b"])
    flipped[40] ^= 1
    other_epoch = IndexKey(EPOCH_KEY, desk_id="main", epoch_id=2).encrypt(b"d", record_id="d")
    rows = [("a", good["a"]), ("b", bytes(flipped)), ("c", good["a"]), ("d", other_epoch),
            ("e", b""), ("a", good["a"])]
    assert list(key.decrypt_many(rows)) == [("a", b"a"), ("b", None), ("c", None), ("d", None),
                                            ("e", None), ("a", b"a")]
