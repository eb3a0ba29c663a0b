"""The STREAM file cipher: round trips, padding, and every kind of tampering."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.crypto import (
    DecryptionError,
    StreamEncryptor,
    ciphertext_size,
    decrypt_stream,
    new_data_key,
    padded_size,
)
from intake.crypto.stream import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE

KEY = new_data_key()
SEALED_SEGMENT = SEGMENT_SIZE + TAG_SIZE
BOUNDARY_SIZES = sorted({n * SEGMENT_SIZE + d for n in range(4) for d in (-1, 0, 1)} - {-1})


def encrypt(plaintext: bytes, chunk: int | None = None, record_id: str = "r1",
            file_id: str = "f1") -> bytes:
    out = io.BytesIO()
    encryptor = StreamEncryptor(KEY, out, record_id=record_id, file_id=file_id)
    step = chunk or max(1, len(plaintext))
    for start in range(0, len(plaintext), step):
        encryptor.write(plaintext[start:start + step])
    encryptor.close()
    return out.getvalue()


def decrypt(ciphertext: bytes, record_id: str = "r1", file_id: str = "f1") -> bytes:
    return b"".join(decrypt_stream(KEY, io.BytesIO(ciphertext), record_id=record_id,
                                   file_id=file_id))


def yielded_before_failure(ciphertext: bytes, **binding: str) -> bytes:
    """Collect what decryption yields before it raises; fail if it does not raise."""
    got = bytearray()
    with pytest.raises(DecryptionError):  # noqa: PT012
        for part in decrypt_stream(KEY, io.BytesIO(ciphertext), record_id=binding.get(
                "record_id", "r1"), file_id=binding.get("file_id", "f1")):
            got += part
    return bytes(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, 3 * SEGMENT_SIZE + 7)),
       chunk=st.one_of(st.none(), st.integers(1, 3 * SEGMENT_SIZE)), data=st.data())
def test_any_size_round_trips_in_any_chunking(size: int, chunk: int | None,
                                              data: st.DataObject) -> None:
    pattern = data.draw(st.binary(min_size=1, max_size=64))
    plaintext = (pattern * (size // len(pattern) + 1))[:size]
    ciphertext = encrypt(plaintext, chunk)
    assert len(ciphertext) == ciphertext_size(len(plaintext))
    assert decrypt(ciphertext) == plaintext


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_segment_boundary_sizes_round_trip(size: int) -> None:
    plaintext = bytes(i % 251 for i in range(size))
    assert decrypt(encrypt(plaintext)) == plaintext


def test_stored_size_depends_only_on_the_padded_size() -> None:
    assert padded_size(0) == padded_size(4096) == 4096
    assert ciphertext_size(5000) == ciphertext_size(padded_size(5000))
    for size in (0, 1, 4095, 70_000, 1_000_000, 123_456_789):
        padded = padded_size(size)
        assert size <= padded <= max(4096, int(size * 1.13))


def test_sizes_within_a_padding_bucket_are_indistinguishable() -> None:
    assert len(encrypt(b"a" * 300_001)) == len(encrypt(b"b" * padded_size(300_001)))


def test_any_flipped_byte_of_a_small_stream_fails_and_yields_nothing() -> None:
    ciphertext = encrypt(b"photo of the death certificate")
    for position in range(len(ciphertext)):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x04
        assert yielded_before_failure(bytes(tampered)) == b""


LONG_PLAINTEXT = bytes(range(256)) * (2 * SEGMENT_SIZE // 256) + b"tail" * 100
LONG_CIPHERTEXT = encrypt(LONG_PLAINTEXT)


@settings(max_examples=80, deadline=None)
@given(position=st.integers(0, len(LONG_CIPHERTEXT) - 1), bit=st.integers(0, 7))
def test_a_flipped_byte_anywhere_in_a_long_stream_fails(position: int, bit: int) -> None:
    """Header, sealed length, any segment or the padding: the fault is caught where it is."""
    tampered = bytearray(LONG_CIPHERTEXT)
    tampered[position] ^= 1 << bit
    got = yielded_before_failure(bytes(tampered))
    segment = (position - HEADER_SIZE) // SEALED_SEGMENT if position >= HEADER_SIZE else 0
    assert got == LONG_PLAINTEXT[:segment * SEGMENT_SIZE]


def segments(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    return [body[i:i + SEALED_SEGMENT] for i in range(0, len(body), SEALED_SEGMENT)]


def test_long_stream_has_three_segments() -> None:
    assert len(segments(LONG_CIPHERTEXT)) == 3


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_truncating_at_a_segment_boundary_fails(keep: int) -> None:
    cut = HEADER_SIZE + keep * SEALED_SEGMENT
    got = yielded_before_failure(LONG_CIPHERTEXT[:cut])
    assert got == LONG_PLAINTEXT[:max(0, keep - 1) * SEGMENT_SIZE]


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, len(LONG_CIPHERTEXT) - 1))
def test_truncating_anywhere_fails(cut: int) -> None:
    got = yielded_before_failure(LONG_CIPHERTEXT[:cut])
    assert LONG_PLAINTEXT.startswith(got)
    assert len(got) % SEGMENT_SIZE == 0


@pytest.mark.parametrize(("first", "second"), [(0, 1), (1, 2), (0, 2)])
def test_swapping_two_segments_fails(first: int, second: int) -> None:
    parts = segments(LONG_CIPHERTEXT)
    parts[first], parts[second] = parts[second], parts[first]
    got = yielded_before_failure(LONG_CIPHERTEXT[:HEADER_SIZE] + b"".join(parts))
    assert got == LONG_PLAINTEXT[:first * SEGMENT_SIZE]


def test_dropping_a_middle_segment_fails() -> None:
    parts = segments(LONG_CIPHERTEXT)
    del parts[1]
    got = yielded_before_failure(LONG_CIPHERTEXT[:HEADER_SIZE] + b"".join(parts))
    assert got == LONG_PLAINTEXT[:SEGMENT_SIZE]


@pytest.mark.parametrize("extra", [b"\x00", b"x" * SEALED_SEGMENT])
def test_appending_bytes_fails(extra: bytes) -> None:
    yielded_before_failure(LONG_CIPHERTEXT + extra)


@pytest.mark.parametrize("binding", [{"record_id": "r2"}, {"file_id": "f2"}])
def test_stream_moved_to_another_record_or_file_yields_nothing(binding: dict[str, str]) -> None:
    assert yielded_before_failure(LONG_CIPHERTEXT, **binding) == b""


def test_header_swapped_from_another_file_yields_nothing() -> None:
    other = encrypt(LONG_PLAINTEXT)
    assert yielded_before_failure(other[:HEADER_SIZE] + LONG_CIPHERTEXT[HEADER_SIZE:]) == b""


def test_stream_does_not_open_with_another_data_key() -> None:
    with pytest.raises(DecryptionError):
        b"".join(decrypt_stream(new_data_key(), io.BytesIO(LONG_CIPHERTEXT), record_id="r1",
                                file_id="f1"))


def test_plaintext_does_not_appear_in_the_ciphertext() -> None:
    marker = b"MARKER-" * 20_000
    assert b"MARKER-" not in encrypt(marker, chunk=7777)


def test_writing_after_close_is_refused() -> None:
    encryptor = StreamEncryptor(KEY, io.BytesIO(), record_id="r1", file_id="f1")
    encryptor.close()
    with pytest.raises(ValueError, match="closed"):
        encryptor.write(b"late")


@pytest.mark.parametrize("wrong_padding", [lambda n: n + 1,
                                           lambda n: padded_size(n) + 2 * SEGMENT_SIZE])
def test_a_stream_whose_padding_disagrees_with_its_sealed_length_is_refused(
        monkeypatch: pytest.MonkeyPatch, wrong_padding: Callable[[int], int]) -> None:
    """Only a holder of the key could write such a stream; it is still refused."""
    import intake.crypto.stream as stream

    with monkeypatch.context() as patched:
        patched.setattr(stream, "padded_size", wrong_padding)
        ciphertext = encrypt(b"x" * 5000)
    yielded_before_failure(ciphertext)
