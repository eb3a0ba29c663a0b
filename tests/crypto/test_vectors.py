"""Known-answer tests: today's formats, pinned by tests/crypto/vectors/formats.json."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from intake.crypto import (
    INSECURE_TEST_ONLY,
    PrivateKey,
    decrypt_field,
    decrypt_stream,
    open_data_key,
    open_epoch_key,
    parse_recovery_secret,
    recovery_key,
    unlock,
)
from intake.crypto.fields import _encrypt_field
from intake.crypto.passphrase import _wrap
from intake.crypto.stream import StreamEncryptor

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "formats.json").read_text())


def h(name: str, section: str | None = None) -> bytes:
    source = VECTORS[section] if section else VECTORS
    return bytes.fromhex(source[name])


@pytest.fixture(scope="module")
def epoch() -> PrivateKey:
    return PrivateKey(h("epoch_private"))


def test_public_key_and_fingerprint_are_derived_as_recorded(epoch: PrivateKey) -> None:
    assert epoch.public_key.raw == h("epoch_public")
    assert epoch.fingerprint == h("epoch_fingerprint")


def test_recorded_sealed_data_key_opens(epoch: PrivateKey) -> None:
    vector = VECTORS["sealed_data_key"]
    sealed = h("ciphertext", "sealed_data_key")
    assert sealed[0] == 1
    assert sealed[1:17] == epoch.fingerprint
    assert open_data_key(sealed, epoch, desk_id=vector["desk_id"], epoch_id=vector["epoch_id"],
                         record_id=vector["record_id"]) == h("data_key")


def test_recorded_grant_opens(epoch: PrivateKey) -> None:
    reviewer = PrivateKey(h("reviewer_private"))
    grant = h("ciphertext", "grant")
    assert grant[1:17] == reviewer.fingerprint
    opened = open_epoch_key(grant, reviewer, desk_id="main", epoch_id=1,
                            epoch_public=epoch.public_key)
    assert opened.to_bytes() == epoch.to_bytes()


def test_field_format_is_reproduced_exactly() -> None:
    vector = VECTORS["field"]
    ciphertext = _encrypt_field(h("data_key"), h("plaintext", "field"), vector["record_id"],
                                vector["field"], h("nonce", "field"))
    assert ciphertext == h("ciphertext", "field")
    assert decrypt_field(h("data_key"), ciphertext, record_id="r1",
                         field="name") == h("plaintext", "field")


def test_stream_format_is_reproduced_exactly() -> None:
    out = io.BytesIO()
    encryptor = StreamEncryptor(h("data_key"), out, record_id="r1", file_id="f1",
                                _salt=h("salt", "stream"))
    encryptor.write(h("plaintext", "stream"))
    encryptor.close()
    assert out.getvalue() == h("ciphertext", "stream")
    plain = b"".join(decrypt_stream(h("data_key"), io.BytesIO(out.getvalue()), record_id="r1",
                                    file_id="f1"))
    assert plain == h("plaintext", "stream")


def test_wrapped_key_format_is_reproduced_exactly() -> None:
    vector = VECTORS["wrapped_key"]
    reviewer = PrivateKey(h("reviewer_private"))
    wrapped = _wrap(reviewer, vector["passphrase"], INSECURE_TEST_ONLY, h("salt", "wrapped_key"),
                    h("nonce", "wrapped_key"))
    assert wrapped.blob == h("blob", "wrapped_key")
    assert wrapped.verifier == h("verifier", "wrapped_key")
    opened = unlock(wrapped.blob, wrapped.verifier, vector["passphrase"])
    assert opened.to_bytes() == reviewer.to_bytes()


def test_recovery_text_is_reproduced_exactly() -> None:
    from intake.crypto import format_recovery_secret

    vector = VECTORS["recovery"]
    assert format_recovery_secret(h("secret", "recovery")) == vector["text"]
    secret = parse_recovery_secret(vector["text"])
    assert recovery_key(secret).fingerprint == h("fingerprint", "recovery")
