"""Every generation of one record's data key: read with any of them, write with the newest.

Who can decrypt: generation 0 is the data key sealed at submission; each key
rotation adds a generation sealed to the new epoch only, so what is written
after a rotation opens only for holders of that epoch, never for an account
revoked before it, whatever data keys that account kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import DecryptionError
from .fields import decrypt_field, encrypt_field


@dataclass(frozen=True)
class CaseKeys:
    """A record's data key generations, oldest (the one sealed at submission) first."""

    generations: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.generations:
            raise ValueError("a record has at least its first data key")

    @property
    def first(self) -> bytes:
        """Return generation 0, under which the family's answers and files were encrypted."""
        return self.generations[0]

    @property
    def newest(self) -> bytes:
        """Return the generation everything written from now on is encrypted under."""
        return self.generations[-1]

    @property
    def newest_generation(self) -> int:
        """Return the number of the newest generation."""
        return len(self.generations) - 1

    def encrypt(self, plaintext: bytes, *, record_id: str, field: str) -> bytes:
        """Encrypt a field written now, under the newest generation."""
        return encrypt_field(self.newest, plaintext, record_id=record_id, field=field)

    def decrypt(self, ciphertext: bytes, *, record_id: str, field: str) -> bytes:
        """Decrypt a field written under any generation; DecryptionError if none opens it."""
        # A ciphertext names its key, so every generation but the right one fails at once.
        for key in reversed(self.generations):
            try:
                return decrypt_field(key, ciphertext, record_id=record_id, field=field)
            except DecryptionError:
                continue
        raise DecryptionError
