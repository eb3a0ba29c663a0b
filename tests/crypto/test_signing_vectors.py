"""Known-answer tests for signatures, certificates and version 2 wrapped keys.

The vectors in tests/crypto/vectors/signing/ pin today's formats. Everything
deterministic is reproduced byte for byte; the ML-DSA-65 half of a stored
signature is hedged, so it must verify instead.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from intake.crypto import PROFILES, PrivateKey
from intake.crypto.chain import verify_chain
from intake.crypto.passphrase import _wrap, unlock_account
from intake.crypto.recovery import recovery_signing_key
from intake.crypto.signing import (
    SigningPrivateKey,
    SigningPublicKey,
    Use,
    format_fingerprint,
)

VECTORS = Path(__file__).parent / "vectors" / "signing"


def load(name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return content


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_signing", VECTORS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["signature.json", "certificate.json",
                                  "wrapped_account_key.json"])
def test_every_signing_vector_file_says_where_it_came_from(name: str) -> None:
    assert "tests/crypto/vectors/signing/generate.py" in load(name)["note"]


def test_signing_keys_are_derived_from_the_seed_as_recorded() -> None:
    stored = load("signature.json")
    key = SigningPrivateKey.from_seed(bytes.fromhex(stored["seed"]), stored["purpose"])
    assert key.to_bytes().hex() == stored["private_key"]
    assert key.public_key.raw.hex() == stored["public_key"]
    assert key.fingerprint.hex() == stored["fingerprint"]
    assert format_fingerprint(key.fingerprint) == stored["fingerprint_text"]
    recovery = recovery_signing_key(bytes.fromhex(stored["recovery_secret"]))
    assert recovery.public_key.raw.hex() == stored["recovery_public_key"]


@pytest.mark.parametrize("vector", load("signature.json")["vectors"], ids=lambda v: v["name"])
def test_recorded_signature_verifies_and_its_ed25519_half_is_reproduced(
        vector: dict[str, Any]) -> None:
    stored = load("signature.json")
    public = SigningPublicKey(bytes.fromhex(stored["public_key"]))
    signature, message = bytes.fromhex(vector["signature"]), bytes.fromhex(vector["message"])
    public.verify(signature, message, Use(vector["use"]))
    key = SigningPrivateKey(bytes.fromhex(stored["private_key"]))
    assert key.sign(message, Use(vector["use"]))[:65] == signature[:65]


def test_recorded_certificate_chain_verifies_against_its_root() -> None:
    stored = load("certificate.json")
    chain = verify_chain(bytes.fromhex(stored["root_fingerprint"]), stored["desk"],
                         [bytes.fromhex(v["certificate"]) for v in stored["vectors"]])
    chain.check_epoch(1, bytes.fromhex(stored["epoch_public_key"]))
    assert chain.revoked == {"reviewer": 3}
    assert format_fingerprint(chain.root) == stored["root_fingerprint_text"]


def test_certificate_bodies_and_ed25519_halves_are_reproduced_exactly() -> None:
    stored = load("certificate.json")
    made = generator().certificates()
    assert made["root_fingerprint"] == stored["root_fingerprint"]
    for old, new in zip(stored["vectors"], made["vectors"], strict=True):
        assert new["signed"] == old["signed"]
        assert new["certificate"][:-2 * 3309] == old["certificate"][:-2 * 3309]


@pytest.mark.parametrize("vector", load("wrapped_account_key.json")["vectors"],
                         ids=lambda v: v["name"])
def test_version_2_wrapped_key_is_reproduced_exactly(vector: dict[str, Any]) -> None:
    key = PrivateKey(bytes.fromhex(vector["private_key"]))
    signing = SigningPrivateKey(bytes.fromhex(vector["signing_key"]))
    root = bytes.fromhex(vector["root"])
    wrapped = _wrap(key, vector["passphrase"], PROFILES[vector["profile"]],
                    bytes.fromhex(vector["salt"]), bytes.fromhex(vector["nonce"]),
                    signed=(signing, root))
    assert wrapped.blob.hex() == vector["blob"]
    assert wrapped.verifier.hex() == vector["verifier"]
    keys = unlock_account(bytes.fromhex(vector["blob"]), bytes.fromhex(vector["verifier"]),
                          vector["passphrase"])
    assert keys.signing_key is not None
    assert (keys.key.to_bytes(), keys.signing_key.to_bytes(), keys.root) == (
        key.to_bytes(), signing.to_bytes(), root)
