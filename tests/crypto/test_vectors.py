"""Known-answer tests: today's formats, pinned by the JSON files in tests/crypto/vectors/.

Deterministic formats must be reproduced byte for byte from the stored seam
inputs and must decrypt to the stored plaintext. HPKE ciphertexts (sealed data
keys, grants) cannot be reproduced, so they must open with the stored fixed
private key and carry the expected header.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from intake.crypto import (
    PROFILES,
    DecryptionError,
    PrivateKey,
    decrypt_field,
    decrypt_stream,
    format_recovery_secret,
    open_data_key,
    open_epoch_key,
    parse_recovery_secret,
    recovery_key,
    unlock,
    unwrap_private_key,
)
from intake.crypto.fields import _encrypt_field
from intake.crypto.passphrase import _wrap
from intake.crypto.stream import StreamEncryptor

VECTORS = Path(__file__).parent / "vectors"
HPKE_CIPHERTEXTS = {"sealed", "grant"}


def load(name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return content


def cases(name: str, section: str = "vectors") -> Any:
    """Parametrize a test over the vectors of one file, named by their "name"."""
    vectors = load(name)[section]
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


def b(vector: dict[str, Any], key: str) -> bytes:
    return bytes.fromhex(vector[key])


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", VECTORS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_hpke_ciphertexts(content: Any) -> Any:
    if isinstance(content, dict):
        return {k: without_hpke_ciphertexts(v) for k, v in content.items()
                if k not in HPKE_CIPHERTEXTS}
    if isinstance(content, list):
        return [without_hpke_ciphertexts(v) for v in content]
    return content


@pytest.mark.parametrize("name", ["keys.json", "sealed_data_key.json", "grant.json",
                                  "field.json", "stream.json", "wrapped_key.json",
                                  "recovery.json"])
def test_every_vector_file_says_where_it_came_from(name: str) -> None:
    content = load(name)
    assert "generate.py" in content["note"]
    assert content["vectors"]


def test_the_generator_reproduces_the_stored_vectors() -> None:
    """Everything but the HPKE ciphertexts, which are resealed with fresh randomness."""
    generated = generator().all_vectors()
    assert sorted(generated) == sorted(p.name for p in VECTORS.glob("*.json"))
    for name, content in generated.items():
        stored = without_hpke_ciphertexts(load(name))
        assert without_hpke_ciphertexts(json.loads(json.dumps(content))) == stored, name


@cases("keys.json")
def test_public_key_and_fingerprint_are_derived_as_recorded(vector: dict[str, Any]) -> None:
    key = PrivateKey(b(vector, "private_key"))
    assert key.public_key.raw == b(vector, "public_key")
    assert key.fingerprint == b(vector, "fingerprint")


@cases("keys.json", "from_seed")
def test_keys_from_a_seed_are_derived_as_recorded(vector: dict[str, Any]) -> None:
    key = PrivateKey.from_seed(b(vector, "seed"), vector["purpose"])
    assert key.to_bytes() == b(vector, "private_key")
    assert key.fingerprint == b(vector, "fingerprint")


@cases("sealed_data_key.json")
def test_recorded_sealed_data_key_opens(vector: dict[str, Any]) -> None:
    epoch = PrivateKey(b(vector, "epoch_private_key"))
    sealed = b(vector, "sealed")
    binding = {k: vector[k] for k in ("desk_id", "epoch_id", "record_id")}
    assert sealed[0] == 1
    assert sealed[1:17] == epoch.fingerprint == bytes.fromhex(load("keys.json")["vectors"][0][
        "fingerprint"])
    assert open_data_key(sealed, epoch, **binding) == b(vector, "data_key")
    with pytest.raises(DecryptionError):
        open_data_key(sealed, epoch, **(binding | {"record_id": "r2"}))


@cases("grant.json")
def test_recorded_grant_opens(vector: dict[str, Any]) -> None:
    reviewer = PrivateKey(b(vector, "recipient_private_key"))
    epoch = PrivateKey(b(vector, "epoch_private_key"))
    grant = b(vector, "grant")
    assert grant[0] == 1
    assert grant[1:17] == reviewer.fingerprint
    opened = open_epoch_key(grant, reviewer, desk_id=vector["desk_id"],
                            epoch_id=vector["epoch_id"], epoch_public=epoch.public_key)
    assert opened.to_bytes() == epoch.to_bytes()
    with pytest.raises(DecryptionError):
        open_epoch_key(grant, reviewer, desk_id=vector["desk_id"],
                       epoch_id=vector["epoch_id"] + 1, epoch_public=epoch.public_key)


@cases("field.json")
def test_field_format_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    data_key, plaintext = b(vector, "data_key"), b(vector, "plaintext")
    ciphertext = _encrypt_field(data_key, plaintext, vector["record_id"], vector["field"],
                                b(vector, "nonce"), vector["version"])
    assert ciphertext == b(vector, "ciphertext")
    assert ciphertext[0] == vector["version"]
    assert decrypt_field(data_key, b(vector, "ciphertext"), record_id=vector["record_id"],
                         field=vector["field"]) == plaintext


def encrypt_stream(vector: dict[str, Any], plaintext: bytes) -> bytes:
    out = io.BytesIO()
    encryptor = StreamEncryptor(b(vector, "data_key"), out, record_id=vector["record_id"],
                                file_id=vector["file_id"], _salt=b(vector, "salt"))
    encryptor.write(plaintext)
    encryptor.close()
    return out.getvalue()


def decrypt_stream_vector(vector: dict[str, Any], ciphertext: bytes) -> bytes:
    return b"".join(decrypt_stream(b(vector, "data_key"), io.BytesIO(ciphertext),
                                   record_id=vector["record_id"], file_id=vector["file_id"]))


@cases("stream.json")
def test_stream_format_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    plaintext = b(vector, "plaintext")
    assert encrypt_stream(vector, plaintext) == b(vector, "ciphertext")
    assert decrypt_stream_vector(vector, b(vector, "ciphertext")) == plaintext


@cases("stream.json", "large_vectors")
def test_multi_segment_stream_format_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    plaintext = hashlib.shake_256(b(vector, "plaintext_shake256_seed")).digest(
        vector["plaintext_size"])
    ciphertext = encrypt_stream(vector, plaintext)
    assert len(ciphertext) == vector["ciphertext_size"]
    assert ciphertext.startswith(b(vector, "ciphertext_head"))
    assert ciphertext.endswith(b(vector, "ciphertext_tail"))
    assert hashlib.sha256(ciphertext).hexdigest() == vector["ciphertext_sha256"]
    assert decrypt_stream_vector(vector, ciphertext) == plaintext


@cases("wrapped_key.json")
def test_wrapped_key_format_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    key = PrivateKey(b(vector, "private_key"))
    profile = PROFILES[vector["profile"]]
    assert profile.name == "insecure-test-only"
    wrapped = _wrap(key, vector["passphrase"], profile, b(vector, "salt"), b(vector, "nonce"))
    assert wrapped.blob == b(vector, "blob")
    assert wrapped.verifier == b(vector, "verifier")
    blob, verifier = b(vector, "blob"), b(vector, "verifier")
    assert unlock(blob, verifier, vector["passphrase"]).to_bytes() == key.to_bytes()
    assert unwrap_private_key(blob, vector["passphrase"]).to_bytes() == key.to_bytes()


@cases("recovery.json")
def test_recovery_text_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    secret = b(vector, "secret")
    assert format_recovery_secret(secret) == vector["text"]
    assert parse_recovery_secret(vector["text"]) == secret
    assert recovery_key(secret).to_bytes() == b(vector, "private_key")
    assert recovery_key(secret).fingerprint == b(vector, "fingerprint")
