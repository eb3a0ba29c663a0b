"""Padmé padding: round a size up so that a stored length reveals only its magnitude."""

from __future__ import annotations


def padme(size: int, minimum: int) -> int:
    """Round `size` up with Padmé (at most about 12 % larger), to at least `minimum`."""
    size = max(size, minimum)
    exponent = size.bit_length() - 1
    mask = (1 << (exponent - exponent.bit_length())) - 1
    return (size + mask) & ~mask
