"""Write an evidence bundle: a signed, optionally timestamped BagIt bag, streamed as a zip.

Layout inside the bag's folder:

- ``data/``: the payload (what the case holds), listed in manifest-sha256.txt;
- ``bagit.txt``, ``bag-info.txt``, ``manifest-sha256.txt`` and ``custody/``
  (certificates, audit checkpoints and the audit log they sign, the exporter's
  public keys as PEM), all listed in tagmanifest-sha256.txt;
- ``signature/tagmanifest-sha256.sig``: the exporting account's hybrid
  signature (Ed25519 + ML-DSA-65) over tagmanifest-sha256.txt, and
  ``signature/signed-message.bin``, the exact bytes both halves sign;
- ``signature/timestamp.tsr``: an RFC 3161 response over the signature file,
  or ``signature/timestamp.txt`` saying why there is none.

bag-info.txt says whether a signature and a timestamp were made, so removing
either is caught by the tag manifest, which the signature covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from intake.crypto.signing import SigningPrivateKey, Use
from intake.evidence.bag import (
    BAG_INFO,
    BAGIT_TXT,
    PAYLOAD_MANIFEST,
    TAG_MANIFEST,
    ZipStream,
    bag_info,
)
from intake.evidence.bag import manifest as render_manifest
from intake.evidence.timestamp import TimestampError

SIGNATURE = "signature/tagmanifest-sha256.sig"
SIGNED_MESSAGE = "signature/signed-message.bin"
TIMESTAMP = "signature/timestamp.tsr"
NO_TIMESTAMP = "signature/timestamp.txt"
UNSIGNED = {SIGNATURE, SIGNED_MESSAGE, TIMESTAMP, NO_TIMESTAMP}
SIGNED_WITH = "hybrid Ed25519 + ML-DSA-65 over tagmanifest-sha256.txt"
NOT_SIGNED = "none: the desk's keyring is not certified"
NO_TSA = "none: this desk names no time-stamping authority"


@dataclass(frozen=True)
class Member:
    """One file of the bag: its path inside the bag's folder, and its bytes in chunks."""

    path: str
    chunks: Iterable[bytes]


@dataclass(frozen=True)
class Header:
    """What bag-info.txt states about the export."""

    organisation: str
    desk: str
    case: str
    day: dt.date
    account_name: str
    account_id: str
    root_text: str
    tsa_url: str | None = None
    left_out: str | None = None
    purpose: str | None = None
    channel: str | None = None

    def fields(self, signed: bool) -> list[tuple[str, str]]:
        """Return bag-info's fields before Payload-Oxum (day only: never a time of day)."""
        found = [
            ("Source-Organization", " ".join(self.organisation.split())),
            ("Bagging-Date", self.day.isoformat()),
            ("External-Identifier", self.case),
            ("External-Description", f"Testimony case {self.case} from desk {self.desk}"),
            ("Bag-Software-Agent", "intake"),
            ("Intake-Desk", self.desk), ("Intake-Case", self.case),
            ("Intake-Exported-By", self.account_name),
            ("Intake-Exported-By-Account", self.account_id),
            ("Intake-Root-Fingerprint", self.root_text or "none"),
            ("Intake-Signature", SIGNED_WITH if signed else NOT_SIGNED),
            ("Intake-Timestamp", f"RFC 3161 from {self.tsa_url}" if self.tsa_url else NO_TSA),
        ]
        if self.channel:
            found.append(("Intake-Received", self.channel))
        if self.purpose:
            found.append(("Intake-Purpose", self.purpose))
        if self.left_out:
            found.append(("Intake-Left-Out", self.left_out))
        return found


Stamper = Callable[[bytes], bytes]


def _stamped(stamp: Stamper | None, signature: bytes,
             note: str) -> tuple[bytes | None, str]:
    """Ask the TSA for a token over the signature; on failure say why instead.

    The signature exists only once every byte before it has been sent, so a
    TSA that fails then cannot refuse the export: the bundle says it is not
    timestamped, and the verifier says so too.
    """
    if stamp is None:
        return None, note
    try:
        return stamp(signature), ""
    except TimestampError as exc:
        return None, f"none: the time-stamping authority failed at export: {exc}"


def write_bundle(header: Header, payload: Iterable[Member], custody: Iterable[Member],
                 signer: SigningPrivateKey | None,
                 stamp: Stamper | None = None) -> Iterator[bytes]:
    """Yield the bundle's zip bytes as each member is written; nothing touches disk."""
    bag = ZipStream(f"case-{header.case[:8]}-{header.day.isoformat()}")
    yield from bag.add("bagit.txt", [BAGIT_TXT])
    for member in payload:
        yield from bag.add(member.path, member.chunks)
    data = {p: v for p, v in bag.digests.items() if p.startswith("data/")}
    oxum = f"{sum(size for _, size in data.values())}.{len(data)}"
    info = bag_info([*header.fields(signer is not None), ("Payload-Oxum", oxum)])
    yield from bag.add(BAG_INFO, [info])
    yield from bag.add(PAYLOAD_MANIFEST, [render_manifest(data)])
    for member in custody:
        yield from bag.add(member.path, member.chunks)
    tags = render_manifest({p: v for p, v in bag.digests.items() if not p.startswith("data/")})
    yield from bag.add(TAG_MANIFEST, [tags])
    note = NO_TSA if not header.tsa_url else "none: the bundle is not signed"
    if signer is not None:
        signature = signer.sign(tags, Use.EVIDENCE_BUNDLE)
        yield from bag.add(SIGNATURE, [signature])
        yield from bag.add(SIGNED_MESSAGE, [signer.public_key.signed_message(
            tags, Use.EVIDENCE_BUNDLE)])
        token, note = _stamped(stamp, signature, note)
        if token is not None:
            yield from bag.add(TIMESTAMP, [token])
    if note:
        yield from bag.add(NO_TIMESTAMP, [note.encode() + b"\n"])
    yield from bag.close()
