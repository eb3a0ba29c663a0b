"""RFC 3161 time-stamps over a bundle's signature, asked for at export and checked offline.

The token proves the signature (and so every byte it covers) existed at the
time the authority states. Building and parsing the ASN.1 is left to
rfc3161-client; what is checked here is that the token is over this
signature (its message imprint), and, given the authority's CA certificate,
that the authority signed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

MAX_RESPONSE = 256 * 1024
TIMEOUT_SECONDS = 30


class TimestampError(Exception):
    """A time-stamp could not be made, or a token does not hold; the message says why."""


@dataclass(frozen=True)
class Stamp:
    """What a checked token states."""

    time: dt.datetime
    authority: str
    signature_checked: bool


def request_token(url: str, signature: bytes) -> bytes:
    """Ask the authority at `url` for a token over `signature`; return its DER response."""
    request = TimestampRequestBuilder().data(signature).hash_algorithm(
        HashAlgorithm.SHA256).cert_request(cert_request=True).nonce(nonce=True).build()
    post = urllib.request.Request(url, data=request.as_bytes(), method="POST",  # noqa: S310
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            body: bytes = answer.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"no answer from {url}: {exc}") from None
    if len(body) > MAX_RESPONSE:
        raise TimestampError("the authority's answer is too large")
    response = _decode(body)
    if response.tst_info.nonce != request.nonce:
        raise TimestampError("the authority's token answers another request (nonce)")
    _check_imprint(response, signature)
    return body


def check_token(token: bytes, signature: bytes, ca: x509.Certificate | None) -> Stamp:
    """Check a stored token is over `signature` (and, given `ca`, signed under it)."""
    response = _decode(token)
    _check_imprint(response, signature)
    if ca is not None:
        try:
            VerifierBuilder(roots=[ca]).build().verify_message(response, signature)
        except (VerificationError, ValueError) as exc:
            raise TimestampError("the token is not signed by a time-stamping authority under "
                                 f"the CA certificate given: {exc}") from None
    info = response.tst_info
    return Stamp(info.gen_time, _name(info.name), ca is not None)


def _decode(body: bytes) -> TimeStampResponse:
    try:
        response = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"the token is not an RFC 3161 response: {exc}") from None
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the authority refused: {response.status_string}")
    return response


def _check_imprint(response: TimeStampResponse, signature: bytes) -> None:
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1") \
            or imprint.message != hashlib.sha256(signature).digest():
        raise TimestampError("the token is a time-stamp of other data than this bundle's "
                             "signature")


def _name(name: object) -> str:
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):
        return value.rfc4514_string()
    return str(value) if value is not None else "(the token does not name it)"
