"""Verify a bundle offline and say, in words a lawyer can read, what holds and what fails.

No instance, no network: everything checked is in the bundle, except the
root fingerprint (printed at `intake init`, given with --root) and the
time-stamping authority's CA certificate (given with --tsa-ca). The checks
run in a fixed order and stop at the first that fails, naming it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from intake.crypto.chain import Chain
from intake.crypto.signing import format_fingerprint
from intake.evidence.bag import (
    BAG_INFO,
    TAG_MANIFEST,
    BagError,
    BagReader,
    check_bag,
    parse_bag_info,
)
from intake.evidence.bundle import (
    NO_TIMESTAMP,
    SIGNATURE,
    SIGNED_MESSAGE,
    SIGNED_WITH,
    TIMESTAMP,
    UNSIGNED,
)
from intake.evidence.custody import CustodyError, check_chain, check_checkpoints, check_exporter
from intake.evidence.timestamp import TimestampError, check_token


@dataclass(frozen=True)
class Step:
    """One check and what it found."""

    name: str
    holds: bool
    text: str


@dataclass
class Verdict:
    """Every check that ran, in order; the last one failed if any did."""

    steps: list[Step] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Say whether every check held."""
        return all(step.holds for step in self.steps)


class _Failed(Exception):
    pass


@dataclass
class _State:
    bag: BagReader
    root: bytes | None
    tsa_ca: x509.Certificate | None
    info: dict[str, str] = field(default_factory=dict)
    chain: Chain | None = None


def verify_bundle(path: Path, root: bytes | None = None,
                  tsa_ca: x509.Certificate | None = None) -> Verdict:
    """Run every check on the bundle at `path`, stopping at the first that fails."""
    verdict = Verdict()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        verdict.steps.append(Step("The bundle file", False, "it is not a readable zip file "
                                  f"(damaged, truncated or still sealed): {exc}"))
        return verdict
    with archive:
        try:
            state = _State(BagReader(archive), root, tsa_ca)
        except BagError as exc:
            verdict.steps.append(Step("The bag's structure (BagIt, RFC 8493)", False, str(exc)))
            return verdict
        for name, check in _CHECKS:
            try:
                verdict.steps.append(Step(name, True, check(state)))
            except (_Failed, BagError, CustodyError, TimestampError) as exc:
                verdict.steps.append(Step(name, False, str(exc)))
                break
    return verdict


def _bag(state: _State) -> str:
    files, octets = check_bag(state.bag, UNSIGNED)
    state.info = parse_bag_info(state.bag.read(BAG_INFO))
    for label in ("Intake-Desk", "Intake-Case", "Intake-Exported-By-Account",
                  "Intake-Root-Fingerprint", "Bagging-Date"):
        if label not in state.info:
            raise _Failed(f"{BAG_INFO} does not state {label}")
    return (f"every file matches its SHA-256: {files} payload files, {octets} bytes, "
            f"and every tag file")


def _chain(state: _State) -> str:
    names = sorted(p for p in state.bag.paths if p.startswith("custody/certificates/"))
    state.chain = check_chain([state.bag.read(n) for n in names], state.info["Intake-Desk"],
                              state.root, state.info["Intake-Root-Fingerprint"])
    given = "the root given" if state.root else "its own first certificate (compare it with " \
        "the root fingerprint printed when the desk was set up, or give --root)"
    return (f"{state.chain.length} certificates of desk {state.chain.desk} chain to "
            f"{given}: {format_fingerprint(state.chain.root)}")


def _signature(state: _State) -> str:
    if state.info.get("Intake-Signature") != SIGNED_WITH:
        raise _Failed("the bundle is not signed: nothing vouches for who exported it")
    assert state.chain is not None  # noqa: S101 (the chain step ran first)
    account = state.info["Intake-Exported-By-Account"]
    key = check_exporter(state.chain, account, state.bag.read(SIGNATURE),
                         state.bag.read(TAG_MANIFEST), state.bag.read(SIGNED_MESSAGE))
    ed, ml = key.halves()
    for name, half in (("ed25519", ed), ("ml-dsa-65", ml)):
        pem = half.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        if state.bag.read(f"custody/exporter-{name}.pem") != pem:
            raise _Failed(f"custody/exporter-{name}.pem is not the exporter's certified key")
    return (f"signed (Ed25519 and ML-DSA-65 both valid) by account {account}, named "
            f"{state.info.get('Intake-Exported-By', '?')} in the bundle, certified by the desk "
            f"and not revoked; exported on {state.info['Bagging-Date']}")


def _checkpoints(state: _State) -> str:
    assert state.chain is not None  # noqa: S101 (the chain step ran first)
    names = sorted(p for p in state.bag.paths if p.startswith("custody/certificates/"))
    coverage = check_checkpoints(
        state.chain, [state.bag.read(n) for n in names], state.info["Intake-Case"],
        state.bag.read("custody/audit-log.jsonl"), state.bag.read("custody/checkpoints.json"),
        state.bag.read("data/audit-trail.json"))
    if not coverage.checkpoints:
        return "no signed checkpoint covers the audit trail: it rests on the signature alone"
    return (f"the case's audit trail is whole and lies within {coverage.entries} audit log "
            f"entries signed by {coverage.checkpoints} checkpoints (accounts "
            f"{', '.join(coverage.signers)})")


def _timestamp(state: _State) -> str:
    if TIMESTAMP not in state.bag.paths:
        note = state.bag.read(NO_TIMESTAMP).decode(errors="replace").strip()
        return f"not timestamped ({note}); the export day rests on the signature alone"
    stamp = check_token(state.bag.read(TIMESTAMP), state.bag.read(SIGNATURE), state.tsa_ca)
    trusted = ("its signature checks under the CA certificate given" if stamp.signature_checked
               else "its authority's signature was NOT checked: give --tsa-ca with the "
               "authority's CA certificate, or run `openssl ts -verify`")
    return (f"the signature existed on {stamp.time.isoformat()} according to {stamp.authority}"
            f"; {trusted}")


_CHECKS: list[tuple[str, Callable[[_State], str]]] = [
    ("The bag's files (BagIt, RFC 8493)", _bag),
    ("The desk's certificate chain", _chain),
    ("The exporter's signature", _signature),
    ("The audit trail and its signed checkpoints", _checkpoints),
    ("The time-stamp (RFC 3161)", _timestamp),
]


def render(verdict: Verdict, name: str) -> str:
    """Describe a verdict in plain sentences, the failure first."""
    lines = [f"Bundle {name}"]
    for step in verdict.steps:
        lines.append(f"  {'HOLDS' if step.holds else 'FAILS'}: {step.name}: {step.text}")
    if verdict.verified:
        lines.append("VERIFIED: every check above holds.")
    else:
        failed = verdict.steps[-1]
        lines.append(f"NOT VERIFIED: {failed.name} fails: {failed.text}. Checks after this one "
                     "were not run.")
    return "\n".join(lines) + "\n"
