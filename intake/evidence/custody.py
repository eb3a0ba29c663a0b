"""Offline checks of a bundle's chain of custody: certificates, exporter, audit checkpoints.

Nothing here reads an instance: every input is a file of the bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from intake.crypto.certs import parse_certificate
from intake.crypto.chain import CertificateError, Chain, verify_chain
from intake.crypto.signing import SignatureError, SigningPublicKey, Use, format_fingerprint
from intake.desk.audit import checkpoint_message, checkpoint_signed_by, entry_digest


class CustodyError(Exception):
    """The chain of custody does not hold; the message says where, in plain words."""


def check_chain(blobs: list[bytes], desk: str, root: bytes | None,
                stated_root: str) -> Chain:
    """Replay the bundle's certificates from its first one; refuse another root than given."""
    if not blobs:
        raise CustodyError("the bundle carries no certificates")
    try:
        found = parse_certificate(blobs[0]).digest
    except ValueError:
        raise CustodyError("the first certificate is unreadable") from None
    if root is not None and found != root:
        raise CustodyError(f"the certificates lead to the root {format_fingerprint(found)}, "
                           f"not to the root given ({format_fingerprint(root)})")
    if format_fingerprint(found) != stated_root:
        raise CustodyError("the certificates lead to another root than bag-info.txt states")
    try:
        return verify_chain(found, desk, blobs)
    except CertificateError as exc:
        raise CustodyError(f"the certificate chain does not hold: {exc}") from None


def check_exporter(chain: Chain, account: str, signature: bytes, tag_manifest: bytes,
                   signed_message: bytes) -> SigningPublicKey:
    """Check the exporting account is certified, not revoked, and signed the tag manifest."""
    if account in chain.revoked:
        raise CustodyError(f"the exporting account {account} was revoked (certificate "
                           f"{chain.revoked[account]}) before this bundle's chain ends: its "
                           "signature does not vouch for the bundle")
    member = chain.accounts.get(account)
    if member is None:
        raise CustodyError(f"the exporting account {account} is not certified by the desk")
    key = SigningPublicKey(member.signing)
    try:
        key.verify(signature, tag_manifest, Use.EVIDENCE_BUNDLE)
    except SignatureError:
        raise CustodyError("the signature over the tag manifest is not by the key the desk "
                           f"certified for the exporting account {account}: the bundle was "
                           "changed or signed by someone else") from None
    if signed_message != key.signed_message(tag_manifest, Use.EVIDENCE_BUNDLE):
        raise CustodyError("signature/signed-message.bin is not what the signature covers")
    return key


@dataclass(frozen=True)
class Coverage:
    """What the checkpoints attest."""

    checkpoints: int
    signers: list[str]
    entries: int


def check_checkpoints(chain: Chain, blobs: list[bytes], case: str, span_data: bytes,
                      checkpoints_data: bytes, trail_data: bytes) -> Coverage:
    """Check the audit span links, every checkpoint signs a point of it, and the trail is whole."""
    span = _span(span_data)
    checkpoints = _load(checkpoints_data, "custody/checkpoints.json")
    trail = _load(trail_data, "data/audit-trail.json")
    by_position = {entry["position"]: entry for entry in span}
    for number, entry in enumerate(checkpoints, start=1):
        _check_one(chain, blobs, entry, by_position, number)
    if span and (not checkpoints or checkpoints[-1]["entries"] != span[-1]["position"]):
        raise CustodyError("the audit log in the bundle runs past its newest signed "
                           "checkpoint: entries were added to it")
    if not _is_desks_trail(chain, [e for e in span if e.get("subject") == case], trail):
        raise CustodyError("the case's audit trail (data/audit-trail.json) is not exactly the "
                           "case's entries in the signed audit log: an entry was changed, "
                           "left out or added")
    return Coverage(len(checkpoints), sorted({c["account"] for c in checkpoints}), len(span))


def _is_desks_trail(chain: Chain, entries: list[dict[str, Any]],
                    trail: list[dict[str, Any]]) -> bool:
    """Say whether the trail is the case's entries of the log, in order, leaving out only
    entries of accounts this desk's chain never certified (another desk of a shared case).

    The family's entries (no account) and every account the chain names must all be there.
    """
    own = set(chain.signing_history) | set(chain.accounts) | set(chain.revoked)
    shown = 0
    for entry in entries:
        found = {k: v for k, v in entry.items() if k != "position"}
        if shown < len(trail) and trail[shown] == found:
            shown += 1
        elif found.get("actor") is None or found.get("actor") in own:
            return False
    return shown == len(trail)


def _check_one(chain: Chain, blobs: list[bytes], entry: dict[str, Any],
               by_position: dict[int, dict[str, Any]], number: int) -> None:
    try:
        message = checkpoint_message(entry["desk"], entry["entries"], entry["head"],
                                     entry["account"], entry["certificates"],
                                     entry["chain_head"])
        signature = bytes.fromhex(entry["signature"])
        length = int(entry["certificates"])
    except (KeyError, TypeError, ValueError):
        raise CustodyError(f"checkpoint {number} is malformed") from None
    keys = chain.signing_keys_at(entry["account"], length) if entry["desk"] == chain.desk \
        else []
    if not any(checkpoint_signed_by(key, signature, message) for key in keys):
        raise CustodyError(f"checkpoint {number} is not signed by a key the desk certified "
                           f"for account {entry['account']}: it was forged or edited")
    if not 0 < length <= len(blobs) or \
            parse_certificate(blobs[length - 1]).digest.hex() != entry["chain_head"]:
        raise CustodyError(f"checkpoint {number} saw another certificate chain than the "
                           "bundle carries")
    found = by_position.get(entry["entries"])
    if found is None or found["hash"] != entry["head"]:
        raise CustodyError(f"checkpoint {number} does not match the audit log in the bundle: "
                           "an entry was changed, removed or reordered")


def _span(data: bytes) -> list[dict[str, Any]]:
    """Read the audit log extract and check each entry's hash and link to the one before."""
    span: list[dict[str, Any]] = []
    try:
        for line in data.decode().splitlines():
            entry = json.loads(line)
            expected = entry_digest(entry["prev_hash"], entry["at"], entry["actor"],
                                    entry["action"], entry["subject"], entry["detail"])
            linked = not span or (entry["prev_hash"] == span[-1]["hash"]
                                  and entry["position"] == span[-1]["position"] + 1)
            if entry["hash"] != expected or not linked:
                raise CustodyError(f"the audit log in the bundle breaks at entry "
                                   f"{entry['position']}: it was changed, removed or "
                                   "reordered")
            span.append(entry)
    except (ValueError, KeyError, TypeError):
        raise CustodyError("the audit log in the bundle is malformed") from None
    return span


def _load(data: bytes, name: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(data)
    except ValueError:
        raise CustodyError(f"{name} is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CustodyError(f"{name} is not a list of entries")
    return value
