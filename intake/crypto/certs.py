"""Certificates: small signed statements about one desk's keys.

Four kinds, each bound to its desk and signed with the hybrid signing key of
the account that issued it (the `issuer` field is that key's fingerprint):

- root: the desk's root of trust, the first admin (account, HPKE and signing
  keys) and the recovery key (its signing key, and its HPKE key, to which every
  epoch is also granted). Its fingerprint (SHA-256 over its
  signed bytes) is what `intake init` prints and every account pins;
- epoch: "epoch E of this desk has HPKE public key P";
- account: "account U has these HPKE and signing keys and this role";
- revocation: "account U is revoked (on day X)".

A desk's certificates form one hash chain: each has a sequence number one
more than the previous and carries the previous one's digest. Clocks are not
trusted; "before" is the position in that chain, so a revoked admin cannot
issue a certificate that comes before its revocation without re-signing every
certificate after it.

Encoding: version (1) | body length (4, big-endian) | body | signature, where
body is canonical JSON (sorted keys, no spaces, ASCII, only strings and
integers; bytes as lower-case hex) and the signature covers version | body
for the certificate use only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ._encoding import ID_PATTERN, check_id
from .keys import PUBLIC_KEY_SIZE as HPKE_PUBLIC_SIZE
from .keys import PublicKey
from .signing import (
    PUBLIC_KEY_SIZE as SIGNING_PUBLIC_SIZE,
)
from .signing import (
    SIGNATURE_SIZE,
    SigningPrivateKey,
    SigningPublicKey,
    Use,
)

VERSION = 1
DIGEST_SIZE = 32
ROLES = ("admin", "reviewer")
MAX_BODY = 16 * 1024
_LENGTH = struct.Struct(">I")


class Kind(Enum):
    """What a certificate states."""

    ROOT = "root"
    EPOCH = "epoch"
    ACCOUNT = "account"
    REVOCATION = "revocation"


# Every body field, its type and (for bytes) its length; fields shared by all
# kinds first. A body with any other field, or one missing, is malformed.
_COMMON: dict[str, type | int] = {"kind": str, "desk": str, "seq": int, "prev": DIGEST_SIZE,
                                  "issuer": DIGEST_SIZE}
_FIELDS: dict[Kind, dict[str, type | int]] = {
    Kind.ROOT: {"account": str, "hpke": HPKE_PUBLIC_SIZE, "signing": SIGNING_PUBLIC_SIZE,
                "recovery": SIGNING_PUBLIC_SIZE, "recovery_hpke": HPKE_PUBLIC_SIZE},
    Kind.EPOCH: {"epoch": int, "hpke": HPKE_PUBLIC_SIZE},
    Kind.ACCOUNT: {"account": str, "role": str, "hpke": HPKE_PUBLIC_SIZE,
                   "signing": SIGNING_PUBLIC_SIZE},
    Kind.REVOCATION: {"account": str, "day": str},
}


class MalformedCertificate(ValueError):
    """Bytes that are not a well-formed certificate of a known version."""


@dataclass(frozen=True)
class Certificate:
    """A parsed certificate; its signature is not checked until the chain is."""

    fields: dict[str, str | int | bytes]
    signed: bytes
    signature: bytes

    @property
    def kind(self) -> Kind:
        """Say what this certificate states."""
        return Kind(self.fields["kind"])

    @property
    def seq(self) -> int:
        """Return its position in the desk's chain."""
        value = self.fields["seq"]
        assert isinstance(value, int)  # noqa: S101 (parse guarantees it; narrows for mypy)
        return value

    @property
    def digest(self) -> bytes:
        """Name this certificate by SHA-256 over its signed bytes."""
        return hashlib.sha256(self.signed).digest()

    def get(self, name: str) -> Any:
        """Return one field (bytes fields as bytes)."""
        return self.fields[name]

    def to_bytes(self) -> bytes:
        """Encode for storage."""
        body = self.signed[1:]
        return self.signed[:1] + _LENGTH.pack(len(body)) + body + self.signature


def root_certificate(desk: str, account: str, hpke: PublicKey, admin: SigningPrivateKey,
                     recovery: SigningPublicKey, recovery_hpke: PublicKey) -> Certificate:
    """Make a desk's root: its first admin and its recovery key, signed by that admin."""
    return _issue(admin, {"kind": Kind.ROOT.value, "desk": check_id(desk, "desk"), "seq": 0,
                          "prev": bytes(DIGEST_SIZE), "account": check_id(account, "account"),
                          "hpke": hpke.raw, "signing": admin.public_key.raw,
                          "recovery": recovery.raw, "recovery_hpke": recovery_hpke.raw})


def epoch_certificate(prev: Certificate, issuer: SigningPrivateKey, epoch: int,
                      hpke: PublicKey) -> Certificate:
    """Certify that epoch `epoch` of prev's desk has public key `hpke`."""
    return _next(prev, issuer, Kind.EPOCH, {"epoch": epoch, "hpke": hpke.raw})


def account_certificate(prev: Certificate, issuer: SigningPrivateKey, account: str, role: str,
                        hpke: PublicKey, signing: SigningPublicKey) -> Certificate:
    """Certify an account's keys and role, vetted by the issuing admin."""
    if role not in ROLES:
        raise ValueError("a role is admin or reviewer")
    return _next(prev, issuer, Kind.ACCOUNT, {
        "account": check_id(account, "account"), "role": role, "hpke": hpke.raw,
        "signing": signing.raw})


def revocation_certificate(prev: Certificate, issuer: SigningPrivateKey, account: str,
                           day: dt.date) -> Certificate:
    """State that `account` is revoked from this point of the chain on."""
    return _next(prev, issuer, Kind.REVOCATION,
                 {"account": check_id(account, "account"), "day": day.isoformat()})


def parse_certificate(data: bytes) -> Certificate:
    """Read a certificate's bytes, refusing any non-canonical or unknown form."""
    if len(data) < 1 + _LENGTH.size or data[0] != VERSION:
        raise MalformedCertificate("not a version 1 certificate")
    (length,) = _LENGTH.unpack_from(data, 1)
    start = 1 + _LENGTH.size
    if length > MAX_BODY or len(data) != start + length + SIGNATURE_SIZE:
        raise MalformedCertificate("a certificate's length does not match its contents")
    body = data[start:start + length]
    fields = _parse_body(body)
    return Certificate(fields, data[:1] + body, data[start + length:])


def _next(prev: Certificate, issuer: SigningPrivateKey, kind: Kind,
          fields: dict[str, str | int | bytes]) -> Certificate:
    return _issue(issuer, {"kind": kind.value, "desk": prev.fields["desk"],
                           "seq": prev.seq + 1, "prev": prev.digest, **fields})


def _issue(issuer: SigningPrivateKey, fields: dict[str, str | int | bytes]) -> Certificate:
    fields = {**fields, "issuer": issuer.fingerprint}
    signed = bytes([VERSION]) + _canonical(fields)
    return parse_certificate(signed[:1] + _LENGTH.pack(len(signed) - 1) + signed[1:]
                             + issuer.sign(signed, Use.CERTIFICATE))


def _canonical(fields: dict[str, str | int | bytes]) -> bytes:
    plain = {k: v.hex() if isinstance(v, bytes) else v for k, v in fields.items()}
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _parse_body(body: bytes) -> dict[str, str | int | bytes]:
    try:
        plain = json.loads(body, parse_float=_refuse, parse_constant=_refuse)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedCertificate("a certificate body is not canonical JSON") from exc
    if not isinstance(plain, dict) or not isinstance(plain.get("kind"), str):
        raise MalformedCertificate("a certificate body is not an object with a kind")
    try:
        schema = {**_COMMON, **_FIELDS[Kind(plain["kind"])]}
    except ValueError as exc:
        raise MalformedCertificate("unknown certificate kind") from exc
    if set(plain) != set(schema):
        raise MalformedCertificate("a certificate has missing or unknown fields")
    fields = {name: _typed(name, plain[name], schema[name]) for name in schema}
    if fields.get("role", "admin") not in ROLES or not all(
            ID_PATTERN.fullmatch(str(fields.get(name, "x"))) for name in ("desk", "account")):
        raise MalformedCertificate("a certificate names an unknown role or an invalid id")
    if _canonical(fields) != body:
        raise MalformedCertificate("a certificate body is not in canonical form")
    return fields


def _typed(name: str, value: object, expected: type | int) -> str | int | bytes:
    if isinstance(expected, int):
        if isinstance(value, str) and len(value) == 2 * expected and value == value.lower():
            try:
                return bytes.fromhex(value)
            except ValueError:
                pass
        raise MalformedCertificate(f"certificate field {name} is not {expected} bytes of hex")
    if expected is int and isinstance(value, int) and not isinstance(value, bool) \
            and 0 <= value < 2**53:
        return value
    if expected is str and isinstance(value, str):
        return value
    raise MalformedCertificate(f"certificate field {name} has the wrong type")


def _refuse(text: str) -> object:
    raise ValueError(f"not allowed in a certificate: {text}")
