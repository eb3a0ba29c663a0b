"""Evidence bundles made in memory from a small certificate chain, and ways to tamper with them.

No instance: the desk, its accounts and its audit log are made here, so the
verifier is tested on exactly the bytes a bundle holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from intake.crypto.certs import (
    Certificate,
    account_certificate,
    revocation_certificate,
    root_certificate,
)
from intake.crypto.keys import PrivateKey
from intake.crypto.signing import SigningPrivateKey, Use, format_fingerprint
from intake.desk.audit import checkpoint_message, entry_digest
from intake.evidence import Header, Member, write_bundle
from intake.evidence.bag import manifest, parse_manifest
from intake.evidence.bundle import Stamper

CASE = "c0ffee00c0ffee00c0ffee00c0ffee00"
ADMIN = SigningPrivateKey.from_seed(b"a" * 32, "tests")
EXPORTER = SigningPrivateKey.from_seed(b"e" * 32, "tests")
RECOVERY = SigningPrivateKey.from_seed(b"r" * 32, "tests")
STRANGER = SigningPrivateKey.from_seed(b"s" * 32, "tests")
LETTER = "نامه.txt".encode() + b" as the family sent it\n"


def certificates(revoked: bool = False, desk: str = "main") -> list[Certificate]:
    """Return a desk's chain: root (admin), the exporter's account, optionally its revocation."""
    hpke = PrivateKey.from_seed(b"h" * 32, "tests").public_key
    root = root_certificate(desk, "admin-1", hpke, ADMIN, RECOVERY.public_key, hpke)
    account = account_certificate(root, ADMIN, "rev-1", "reviewer", hpke, EXPORTER.public_key)
    chain = [root, account]
    if revoked:
        chain.append(revocation_certificate(account, ADMIN, "rev-1", dt.date(2026, 1, 2)))
    return chain


def audit_span(chain: list[Certificate]) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Return five audit entries (three about the case) and the exporter's checkpoint on them."""
    entries: list[dict[str, object]] = []
    prev = "ab" * 32
    for position, (action, subject) in enumerate(
            [("view", CASE), ("view", "other"), ("note", CASE), ("login", None),
             ("export", CASE)], start=7):
        at = f"2026-01-01T10:0{position}:00+00:00"
        digest = entry_digest(prev, at, "rev-1", action, subject, "")
        entries.append({"position": position, "seq": position + 3, "at": at, "actor": "rev-1",
                        "action": action, "subject": subject, "detail": "",
                        "prev_hash": prev, "hash": digest})
        prev = digest
    head, count = str(entries[-1]["hash"]), int(str(entries[-1]["position"]))
    message = checkpoint_message("main", count, head, "rev-1", len(chain),
                                 chain[-1].digest.hex())
    checkpoint = {"id": 1, "desk": "main", "entries": count, "head": head, "account": "rev-1",
                  "certificates": len(chain), "chain_head": chain[-1].digest.hex(),
                  "signature": EXPORTER.sign(message, Use.AUDIT_CHECKPOINT).hex()}
    return entries, checkpoint


def make_bundle(path: Path, *, revoked: bool = False, stamp: Stamper | None = None,
                tsa_url: str | None = None) -> Path:
    """Write a good bundle (signed by the certified exporter) to `path`."""
    chain = certificates(revoked)
    span, checkpoint = audit_span(chain)
    trail = [{k: v for k, v in e.items() if k != "position"} for e in span
             if e["subject"] == CASE]
    header = Header("Org", "main", CASE, dt.date(2026, 1, 1), "reviewer", "rev-1",
                    format_fingerprint(chain[0].digest), tsa_url)
    payload = [Member("data/case.json", [json.dumps({"answers": {"name": "علی"}}).encode()]),
               Member("data/files/c0ffee00-1-نامه.txt", [LETTER]),
               Member("data/audit-trail.json", [json.dumps(trail).encode()])]
    custody = [Member("custody/audit-log.jsonl",
                      [b"".join(json.dumps(e).encode() + b"\n" for e in span)]),
               Member("custody/checkpoints.json", [json.dumps([checkpoint]).encode()]),
               *[Member(f"custody/certificates/{n:06d}.cert", [c.to_bytes()])
                 for n, c in enumerate(chain)],
               *pem_members(EXPORTER)]
    path.write_bytes(b"".join(write_bundle(header, payload, custody, EXPORTER, stamp)))
    return path


def pem_members(key: SigningPrivateKey) -> list[Member]:
    """Return the exporter's public key halves as the bundle carries them."""
    return [Member(f"custody/exporter-{name}.pem", [half.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)])
        for name, half in zip(("ed25519", "ml-dsa-65"), key.public_key.halves(), strict=True)]


Members = dict[str, bytes]


def rewrite(path: Path, edit: Callable[[Members], None]) -> Path:
    """Rebuild the bundle's zip with its members edited in place (paths inside the bag)."""
    with zipfile.ZipFile(path) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        members = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    edit(members)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{top}/{name}", data)
    out = path.with_name("tampered-" + path.name)
    out.write_bytes(buffer.getvalue())
    return out


def retag(members: Members) -> None:
    """Recompute the tag manifest over the tag files, as someone who edited them would."""
    listed = parse_manifest(members["tagmanifest-sha256.txt"], "tagmanifest")
    members["tagmanifest-sha256.txt"] = manifest({
        name: (hashlib.sha256(members[name]).hexdigest(), 0) for name in listed})


def resign(members: Members, key: SigningPrivateKey) -> None:
    """Sign the tag manifest again with `key`, and replace the exporter key files by its own."""
    for member in pem_members(key):
        members[member.path] = b"".join(member.chunks)
    retag(members)
    tags = members["tagmanifest-sha256.txt"]
    members["signature/tagmanifest-sha256.sig"] = key.sign(tags, Use.EVIDENCE_BUNDLE)
    members["signature/signed-message.bin"] = key.public_key.signed_message(
        tags, Use.EVIDENCE_BUNDLE)
