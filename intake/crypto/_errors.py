"""The one exception every failed decryption raises."""

from __future__ import annotations


class DecryptionError(Exception):
    """A ciphertext could not be opened.

    The message never says which check failed (wrong key, wrong record,
    tampering, truncation or an unknown format version), so a caller cannot
    leak that distinction to whoever supplied the ciphertext.
    """

    def __init__(self) -> None:
        super().__init__("the ciphertext could not be decrypted")
