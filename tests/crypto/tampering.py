"""Helpers that damage ciphertexts one byte at a time and report what got through."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from intake.crypto import DecryptionError

# Low bit, high bit (X25519 ignores the top bit of a public key) and every bit.
MASKS = (0x01, 0x80, 0xFF)


def flipped(data: bytes, positions: Iterable[int] | None = None,
            masks: Iterable[int] = MASKS) -> Iterator[tuple[int, int, bytes]]:
    """Yield (position, mask, data with that byte XORed by mask) for each position and mask."""
    masks = tuple(masks)
    for position in range(len(data)) if positions is None else positions:
        for mask in masks:
            tampered = bytearray(data)
            tampered[position] ^= mask
            yield position, mask, bytes(tampered)


def accepted_flips(open_: Callable[[bytes], object], data: bytes,
                   masks: Iterable[int] = MASKS) -> list[tuple[int, int]]:
    """Return every (position, mask) whose flipped ciphertext `open_` did not refuse.

    Refusing means raising DecryptionError; any other exception propagates and
    fails the calling test, since every failure must be that one exception.
    """
    survivors = []
    for position, mask, tampered in flipped(data, masks=masks):
        try:
            open_(tampered)
        except DecryptionError:
            continue
        survivors.append((position, mask))
    return survivors


def accepted_cuts(open_: Callable[[bytes], object], data: bytes) -> list[int]:
    """Return every length at which a truncated ciphertext was not refused."""
    survivors = []
    for cut in range(len(data)):
        try:
            open_(data[:cut])
        except DecryptionError:
            continue
        survivors.append(cut)
    return survivors
