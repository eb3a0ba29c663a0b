"""The STREAM file cipher: round trips, padded sizes, and every kind of tampering.

Decryption checks every segment before yielding any by default, so a damaged
file yields nothing. In one-pass mode it yields each segment once it
authenticates, so for a fault in segment k the tests check both that
DecryptionError is raised and that what came out before it is exactly the
plaintext of segments 0..k-1; every such test also checks that the default
mode yields nothing from the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from itertools import cycle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto import (
    DecryptionError,
    StreamEncryptor,
    ciphertext_size,
    decrypt_stream,
    new_data_key,
    padded_size,
)
from intake.crypto.stream import _PREFIX, HEADER_SIZE, MIN_PADDED_SIZE, SEGMENT_SIZE, TAG_SIZE

from .tampering import flipped

KEY = new_data_key()
SEALED_SEGMENT = SEGMENT_SIZE + TAG_SIZE
BOUNDARY_SIZES = sorted({n * SEGMENT_SIZE + d for n in range(4) for d in (-1, 0, 1)} - {-1})
SIZES = st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, 3 * SEGMENT_SIZE + 1))


def plaintext_of(size: int, seed: int = 0) -> bytes:
    """Return `size` bytes that differ from segment to segment."""
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(size)


def encrypt(plaintext: bytes, chunks: Sequence[int] = (), *, key: bytes = KEY,
            record_id: str = "r1", file_id: str = "f1", out: io.BytesIO | None = None) -> bytes:
    """Encrypt through the public API, writing in the given chunk sizes (cycled)."""
    out = io.BytesIO() if out is None else out
    encryptor = StreamEncryptor(key, out, record_id=record_id, file_id=file_id)
    view, sizes = memoryview(plaintext), cycle(chunks or [max(1, len(plaintext))])
    while view:
        step = next(sizes)
        assert encryptor.write(view[:step]) == min(step, len(view))
        view = view[step:]
    assert encryptor.close() == len(plaintext)
    return out.getvalue()


def decrypt(ciphertext: bytes, *, key: bytes = KEY, record_id: str = "r1",
            file_id: str = "f1") -> bytes:
    return b"".join(decrypt_stream(key, io.BytesIO(ciphertext), record_id=record_id,
                                   file_id=file_id))


def yielded_before_failure(ciphertext: bytes, *, key: bytes = KEY, record_id: str = "r1",
                           file_id: str = "f1") -> bytes | None:
    """Return what one-pass decryption yielded before DecryptionError, or None if it never raised.

    Decryption in the default, checked-first mode must then yield nothing at all.
    """
    streamed = _yielded(ciphertext, key, record_id, file_id, check_first=False)
    checked = _yielded(ciphertext, key, record_id, file_id, check_first=True)
    assert checked == (None if streamed is None else b"")
    return streamed


def _yielded(ciphertext: bytes, key: bytes, record_id: str, file_id: str,
             check_first: bool) -> bytes | None:
    got = bytearray()
    try:
        for part in decrypt_stream(key, io.BytesIO(ciphertext), record_id=record_id,
                                   file_id=file_id, check_first=check_first):
            got += part
    except DecryptionError:
        return bytes(got)
    return None


def segments(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    return [body[i:i + SEALED_SEGMENT] for i in range(0, len(body), SEALED_SEGMENT)]


def join(header_from: bytes, parts: list[bytes]) -> bytes:
    return header_from[:HEADER_SIZE] + b"".join(parts)


# Three segments: two full ones and a last one of 1000 bytes of data and 3096 of padding.
LONG_SIZE = 2 * SEGMENT_SIZE + 1000
LONG_PLAINTEXT = plaintext_of(LONG_SIZE, seed=1)
LONG_CIPHERTEXT = encrypt(LONG_PLAINTEXT)
# Three full segments, no padding: the last segment is as long as the others.
FULL_PLAINTEXT = plaintext_of(3 * SEGMENT_SIZE, seed=2)
FULL_CIPHERTEXT = encrypt(FULL_PLAINTEXT)
STREAMS = {"partial-last-segment": (LONG_PLAINTEXT, LONG_CIPHERTEXT),
           "full-last-segment": (FULL_PLAINTEXT, FULL_CIPHERTEXT)}
LAST = HEADER_SIZE + 2 * SEALED_SEGMENT
REGIONS = {
    "header": (0, _PREFIX),
    "sealed length": (_PREFIX, HEADER_SIZE),
    "first segment": (HEADER_SIZE, HEADER_SIZE + SEALED_SEGMENT),
    "middle segment": (HEADER_SIZE + SEALED_SEGMENT, LAST),
    "last segment data": (LAST, LAST + 1000),
    "padding": (LAST + 1000, LAST + padded_size(LONG_SIZE) - 2 * SEGMENT_SIZE),
    "last tag": (LAST + padded_size(LONG_SIZE) - 2 * SEGMENT_SIZE, len(LONG_CIPHERTEXT)),
}


def segment_at(position: int) -> int:
    """Return the index of the segment a ciphertext byte belongs to (0 for the header)."""
    return max(0, position - HEADER_SIZE) // SEALED_SEGMENT


def test_the_long_streams_have_the_layout_the_tests_rely_on() -> None:
    assert [len(s) for s in segments(LONG_CIPHERTEXT)] == [SEALED_SEGMENT] * 2 + [4096 + 16]
    assert [len(s) for s in segments(FULL_CIPHERTEXT)] == [SEALED_SEGMENT] * 3
    assert REGIONS["padding"][1] - REGIONS["padding"][0] == 3096
    assert REGIONS["last tag"][1] - REGIONS["last tag"][0] == TAG_SIZE


@settings(max_examples=50, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32),
       chunks=st.lists(st.one_of(st.integers(1, 4096), st.integers(1, 2 * SEGMENT_SIZE + 3)),
                       max_size=6))
def test_any_size_round_trips_in_any_chunking(size: int, seed: int, chunks: list[int]) -> None:
    plaintext = plaintext_of(size, seed)
    ciphertext = encrypt(plaintext, chunks)
    assert len(ciphertext) == ciphertext_size(size)
    assert decrypt(ciphertext) == plaintext


@pytest.mark.parametrize("chunk", [0, 1000, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1])
@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_segment_boundary_sizes_round_trip(size: int, chunk: int) -> None:
    plaintext = plaintext_of(size, seed=size)
    ciphertext = encrypt(plaintext, [chunk] if chunk else [])
    assert len(ciphertext) == ciphertext_size(size)
    assert decrypt(ciphertext) == plaintext


@settings(max_examples=40, deadline=None)
@given(data=st.data(), size=SIZES)
def test_stored_size_depends_only_on_the_padded_size(data: st.DataObject, size: int) -> None:
    padded = padded_size(size)
    other = data.draw(st.integers(size, padded), label="other size in the same bucket")
    stored = len(encrypt(plaintext_of(size)))
    assert stored == ciphertext_size(size) == ciphertext_size(padded)
    assert len(encrypt(plaintext_of(other, seed=1))) == stored


@settings(max_examples=500, deadline=None)
@given(size=st.integers(0, 2**40))
def test_padded_size_is_padme_with_a_4_kib_floor(size: int) -> None:
    padded = padded_size(size)
    assert padded >= max(size, MIN_PADDED_SIZE)
    assert padded_size(padded) == padded
    assert padded_size(size + 1) >= padded
    assert padded - max(size, MIN_PADDED_SIZE) <= 0.12 * max(size, MIN_PADDED_SIZE)
    assert ciphertext_size(size) == ciphertext_size(padded)


def test_sizes_in_one_padding_bucket_are_indistinguishable() -> None:
    assert padded_size(0) == padded_size(1) == padded_size(MIN_PADDED_SIZE) == MIN_PADDED_SIZE
    assert len(encrypt(b"")) == len(encrypt(b"x" * MIN_PADDED_SIZE))
    assert len(encrypt(b"a" * 300_001)) == len(encrypt(b"b" * padded_size(300_001)))


def test_any_flipped_byte_of_a_small_stream_fails_and_yields_nothing() -> None:
    ciphertext = encrypt(b"photo of the death certificate")
    survivors = [(position, mask, got)
                 for position, mask, tampered in flipped(ciphertext)
                 if (got := yielded_before_failure(tampered)) != b""]
    assert survivors == []


@settings(max_examples=80, deadline=None)
@given(data=st.data(), mask=st.integers(1, 255))
def test_a_flipped_byte_anywhere_in_a_long_stream_fails_where_it_is(data: st.DataObject,
                                                                    mask: int) -> None:
    region = data.draw(st.sampled_from(sorted(REGIONS)), label="region")
    start, end = REGIONS[region]
    position = data.draw(st.integers(start, end - 1), label="position")
    tampered = bytearray(LONG_CIPHERTEXT)
    tampered[position] ^= mask
    got = yielded_before_failure(bytes(tampered))
    assert got == LONG_PLAINTEXT[:segment_at(position) * SEGMENT_SIZE]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("region", sorted(REGIONS))
def test_a_flipped_byte_in_each_region_of_a_long_stream_fails(region: str, where: str) -> None:
    start, end = REGIONS[region]
    position = {"first": start, "middle": (start + end) // 2, "last": end - 1}[where]
    tampered = bytearray(LONG_CIPHERTEXT)
    tampered[position] ^= 0x01
    got = yielded_before_failure(bytes(tampered))
    assert got == LONG_PLAINTEXT[:segment_at(position) * SEGMENT_SIZE]
    if region in ("header", "sealed length", "first segment"):
        assert got == b""


def truncation_yield(plaintext: bytes, cut: int) -> bytes:
    """What a stream cut to `cut` bytes may yield: every segment before the one cut short."""
    last_kept = (cut - HEADER_SIZE - 1) // SEALED_SEGMENT if cut > HEADER_SIZE else 0
    return plaintext[:max(0, last_kept) * SEGMENT_SIZE]


@pytest.mark.parametrize("boundary", [0, 1, _PREFIX, HEADER_SIZE, HEADER_SIZE + SEALED_SEGMENT,
                                      HEADER_SIZE + 2 * SEALED_SEGMENT])
@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_truncating_at_a_segment_boundary_fails(stream: str, boundary: int) -> None:
    plaintext, ciphertext = STREAMS[stream]
    got = yielded_before_failure(ciphertext[:boundary])
    assert got == truncation_yield(plaintext, boundary)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), stream=st.sampled_from(sorted(STREAMS)))
def test_truncating_anywhere_fails(data: st.DataObject, stream: str) -> None:
    plaintext, ciphertext = STREAMS[stream]
    boundaries = [HEADER_SIZE + k * SEALED_SEGMENT for k in range(3)]
    cut = data.draw(st.one_of(st.sampled_from(boundaries), st.integers(0, len(ciphertext) - 1)),
                    label="cut")
    assert yielded_before_failure(ciphertext[:cut]) == truncation_yield(plaintext, cut)


@pytest.mark.parametrize(("first", "second"), [(0, 1), (1, 2), (0, 2)])
@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_swapping_two_segments_fails(stream: str, first: int, second: int) -> None:
    plaintext, ciphertext = STREAMS[stream]
    parts = segments(ciphertext)
    parts[first], parts[second] = parts[second], parts[first]
    assert yielded_before_failure(join(ciphertext, parts)) == plaintext[:first * SEGMENT_SIZE]


@pytest.mark.parametrize("dropped", [0, 1])
@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_dropping_a_segment_fails(stream: str, dropped: int) -> None:
    plaintext, ciphertext = STREAMS[stream]
    parts = segments(ciphertext)
    del parts[dropped]
    assert yielded_before_failure(join(ciphertext, parts)) == plaintext[:dropped * SEGMENT_SIZE]


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_repeating_a_segment_fails(stream: str) -> None:
    plaintext, ciphertext = STREAMS[stream]
    parts = segments(ciphertext)
    parts.insert(1, parts[0])
    assert yielded_before_failure(join(ciphertext, parts)) == plaintext[:SEGMENT_SIZE]


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_a_segment_from_another_file_of_the_same_record_does_not_fit(stream: str) -> None:
    plaintext, ciphertext = STREAMS[stream]
    parts, others = segments(ciphertext), segments(encrypt(plaintext))
    parts[1] = others[1]
    assert yielded_before_failure(join(ciphertext, parts)) == plaintext[:SEGMENT_SIZE]


@pytest.mark.parametrize("extra", [b"\x00", bytes(TAG_SIZE), b"x" * SEALED_SEGMENT, "segment"])
@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_appending_bytes_fails(stream: str, extra: bytes | str) -> None:
    plaintext, ciphertext = STREAMS[stream]
    tail = segments(ciphertext)[-1] if extra == "segment" else extra
    assert isinstance(tail, bytes)
    got = yielded_before_failure(ciphertext + tail)
    assert got == plaintext[:2 * SEGMENT_SIZE]


@pytest.mark.parametrize("binding", [{"record_id": "r2"}, {"file_id": "f2"},
                                     {"record_id": "r1f", "file_id": "1"}])
def test_stream_moved_to_another_record_or_file_yields_nothing(binding: dict[str, str]) -> None:
    assert yielded_before_failure(LONG_CIPHERTEXT, **binding) == b""


def test_a_header_from_another_file_yields_nothing() -> None:
    other = encrypt(LONG_PLAINTEXT)
    assert yielded_before_failure(join(other, segments(LONG_CIPHERTEXT))) == b""
    sealed_length = other[_PREFIX:HEADER_SIZE]
    mixed = LONG_CIPHERTEXT[:_PREFIX] + sealed_length + LONG_CIPHERTEXT[HEADER_SIZE:]
    assert yielded_before_failure(mixed) == b""


def test_stream_does_not_open_with_another_data_key_and_yields_nothing() -> None:
    assert yielded_before_failure(LONG_CIPHERTEXT, key=new_data_key()) == b""


@pytest.mark.parametrize("ciphertext", [b"", b"\x01", LONG_CIPHERTEXT[:HEADER_SIZE - 1]])
def test_something_shorter_than_a_header_is_refused(ciphertext: bytes) -> None:
    assert yielded_before_failure(ciphertext) == b""


def test_a_stream_written_after_other_data_decrypts_from_its_offset() -> None:
    out = io.BytesIO()
    out.write(b"preamble")
    ciphertext = encrypt(b"the letter", out=out)
    source = io.BytesIO(ciphertext)
    source.seek(len(b"preamble"))
    assert b"".join(decrypt_stream(KEY, source, record_id="r1", file_id="f1")) == b"the letter"


def test_plaintext_does_not_appear_in_the_ciphertext() -> None:
    marker = b"MARKER-" * 20_000
    assert b"MARKER-" not in encrypt(marker, [7777])
    assert KEY not in encrypt(marker)


def test_closing_twice_is_harmless_and_writing_after_close_is_refused() -> None:
    out = io.BytesIO()
    encryptor = StreamEncryptor(KEY, out, record_id="r1", file_id="f1")
    encryptor.write(b"late")
    assert encryptor.close() == 4
    stored = out.getvalue()
    assert encryptor.close() == 4
    assert out.getvalue() == stored
    with pytest.raises(ValueError, match="closed"):
        encryptor.write(b"later")


@pytest.mark.parametrize("wrong_padding", [lambda n: n + 1,
                                           lambda n: padded_size(n) + 2 * SEGMENT_SIZE])
def test_a_stream_whose_padding_disagrees_with_its_sealed_length_is_refused(
        monkeypatch: pytest.MonkeyPatch, wrong_padding: Callable[[int], int]) -> None:
    """Only a holder of the key could write such a stream; it is still refused."""
    import intake.crypto.stream as stream

    with monkeypatch.context() as patched:
        patched.setattr(stream, "padded_size", wrong_padding)
        ciphertext = encrypt(b"x" * 5000)
    assert yielded_before_failure(ciphertext) is not None
