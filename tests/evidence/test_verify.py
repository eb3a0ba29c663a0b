"""`intake verify`: a good bundle holds; each kind of tampering fails, naming what was changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.cli import main
from intake.crypto.signing import format_fingerprint
from intake.evidence import verify_bundle
from intake.evidence.bag import BagReader, parse_bag_info
from tests.evidence.bundles import (
    LETTER,
    STRANGER,
    Members,
    certificates,
    make_bundle,
    resign,
    retag,
    rewrite,
)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return make_bundle(tmp_path / "case.zip")


def failure(path: Path, root: bytes | None = None) -> tuple[str, str]:
    """Return the name and text of the check that failed."""
    verdict = verify_bundle(path, root)
    assert not verdict.verified
    return verdict.steps[-1].name, verdict.steps[-1].text


def test_a_good_bundle_holds_every_check_and_is_a_bagit_bag(bundle: Path) -> None:
    verdict = verify_bundle(bundle, certificates()[0].digest)
    assert verdict.verified, verdict.steps
    assert [step.name for step in verdict.steps] == [
        "The bag's files (BagIt, RFC 8493)", "The desk's certificate chain",
        "The exporter's signature", "The audit trail and its signed checkpoints",
        "The time-stamp (RFC 3161)"]
    with zipfile.ZipFile(bundle) as archive:
        bag = BagReader(archive)
        assert bag.top == "case-c0ffee00-2026-01-01"
        assert bag.read("bagit.txt") == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        assert (f"{hashlib.sha256(LETTER).hexdigest()}  data/files/c0ffee00-1-نامه.txt"
                in bag.read("manifest-sha256.txt").decode().splitlines())
        info = parse_bag_info(bag.read("bag-info.txt"))
    assert info["Bagging-Date"] == "2026-01-01"
    assert info["Intake-Exported-By-Account"] == "rev-1"
    assert info["Intake-Timestamp"] == "none: this desk names no time-stamping authority"
    assert "not timestamped" in verdict.steps[-1].text


def test_one_changed_payload_byte_fails_naming_the_file(bundle: Path) -> None:
    def edit(members: Members) -> None:
        name = "data/files/c0ffee00-1-نامه.txt"
        members[name] = members[name][:-2] + b"X\n"
    assert failure(rewrite(bundle, edit)) == (
        "The bag's files (BagIt, RFC 8493)",
        "payload file data/files/c0ffee00-1-نامه.txt does not match its SHA-256 in the "
        "manifest: it was changed")


def test_a_byte_flipped_inside_the_zip_fails_too(bundle: Path) -> None:
    data = bytearray(bundle.read_bytes())
    data[200] ^= 1
    bundle.write_bytes(bytes(data))
    assert not verify_bundle(bundle).verified


def test_a_removed_file_fails_naming_it(bundle: Path) -> None:
    def edit(members: Members) -> None:
        del members["data/files/c0ffee00-1-نامه.txt"]
    assert failure(rewrite(bundle, edit))[1] == (
        "payload file data/files/c0ffee00-1-نامه.txt is listed in the manifest but missing: "
        "it was removed")


def test_an_added_file_fails_naming_it(bundle: Path) -> None:
    def edit(members: Members) -> None:
        members["data/files/planted.pdf"] = b"%PDF"
    assert failure(rewrite(bundle, edit))[1] == (
        "payload file data/files/planted.pdf is in the bag but in no manifest: it was added")


def test_a_changed_bag_info_fails_naming_it(bundle: Path) -> None:
    def edit(members: Members) -> None:
        members["bag-info.txt"] = members["bag-info.txt"].replace(b"2026-01-01", b"2025-12-31")
    assert failure(rewrite(bundle, edit))[1] == (
        "tag file bag-info.txt does not match its SHA-256 in the manifest: it was changed")


def test_a_changed_bag_info_with_the_tag_manifest_redone_fails_the_signature(
        bundle: Path) -> None:
    def edit(members: Members) -> None:
        members["bag-info.txt"] = members["bag-info.txt"].replace(b"2026-01-01", b"2025-12-31")
        retag(members)
    name, text = failure(rewrite(bundle, edit))
    assert name == "The exporter's signature"
    assert text.startswith("the signature over the tag manifest is not by the key the desk "
                           "certified for the exporting account rev-1")


def test_a_certificate_swapped_for_another_desks_fails_naming_the_chain(bundle: Path) -> None:
    """Someone replaces the exporter's certificate (and redoes the tag manifest)."""
    def edit(members: Members) -> None:
        members["custody/certificates/000001.cert"] = certificates(desk="other")[1].to_bytes()
        retag(members)
    assert failure(rewrite(bundle, edit)) == (
        "The desk's certificate chain", "the certificate chain does not hold: certificate 1 "
        "(account): the certificate belongs to another desk")


def test_a_swapped_certificate_alone_fails_as_a_changed_tag_file(bundle: Path) -> None:
    def edit(members: Members) -> None:
        members["custody/certificates/000001.cert"] = certificates(desk="other")[1].to_bytes()
    assert failure(rewrite(bundle, edit))[1] == (
        "tag file custody/certificates/000001.cert does not match its SHA-256 in the manifest: "
        "it was changed")


def test_a_signature_by_a_key_not_in_the_chain_fails(bundle: Path) -> None:
    """Someone edits the bundle and signs it again with a key of their own."""
    def edit(members: Members) -> None:
        members["bag-info.txt"] = members["bag-info.txt"].replace(b"2026-01-01", b"2025-12-31")
        resign(members, STRANGER)
    assert failure(rewrite(bundle, edit)) == (
        "The exporter's signature", "the signature over the tag manifest is not by the key the "
        "desk certified for the exporting account rev-1: the bundle was changed or signed by "
        "someone else")


def test_a_bundle_signed_by_a_revoked_exporter_fails(tmp_path: Path) -> None:
    path = make_bundle(tmp_path / "case.zip", revoked=True)
    assert failure(path) == (
        "The exporter's signature", "the exporting account rev-1 was revoked (certificate 2) "
        "before this bundle's chain ends: its signature does not vouch for the bundle")


def test_a_chain_to_another_root_than_the_one_given_fails(bundle: Path) -> None:
    other = certificates(desk="other")[0].digest
    name, text = failure(bundle, root=other)
    assert name == "The desk's certificate chain"
    assert text == (f"the certificates lead to the root "
                    f"{format_fingerprint(certificates()[0].digest)}, not to the root given "
                    f"({format_fingerprint(other)})")


def test_an_unsigned_bundle_fails(bundle: Path) -> None:
    def edit(members: Members) -> None:
        del members["signature/tagmanifest-sha256.sig"]
    assert failure(rewrite(bundle, edit))[1] == "signature/tagmanifest-sha256.sig is missing"


def test_a_changed_audit_entry_fails_even_with_the_trail_and_manifests_redone(
        bundle: Path) -> None:
    """Someone rewrites who viewed the case in both the trail and the log extract, and redoes
    the tag manifest: the entry's hash no longer matches (signature aside)."""
    from intake.crypto.chain import verify_chain
    from intake.evidence.custody import CustodyError, check_checkpoints

    chain_certs = certificates()
    chain = verify_chain(chain_certs[0].digest, "main", [c.to_bytes() for c in chain_certs])
    with zipfile.ZipFile(bundle) as archive:
        bag = BagReader(archive)
        span, checkpoints, trail = (bag.read("custody/audit-log.jsonl"),
                                    bag.read("custody/checkpoints.json"),
                                    bag.read("data/audit-trail.json"))
    blobs = [c.to_bytes() for c in chain_certs]
    assert check_checkpoints(chain, blobs, "c0ffee00c0ffee00c0ffee00c0ffee00", span,
                             checkpoints, trail).checkpoints == 1
    with pytest.raises(CustodyError, match="the audit log in the bundle breaks at entry 9"):
        check_checkpoints(chain, blobs, "c0ffee00c0ffee00c0ffee00c0ffee00",
                          span.replace(b'"note"', b'"view"'), checkpoints, trail)
    dropped = trail.replace(b'"note"', b'"view"')
    with pytest.raises(CustodyError, match="is not exactly the case's entries"):
        check_checkpoints(chain, blobs, "c0ffee00c0ffee00c0ffee00c0ffee00", span,
                          checkpoints, dropped)


def test_a_truncated_bundle_fails_as_unreadable(bundle: Path) -> None:
    bundle.write_bytes(bundle.read_bytes()[:-100])
    assert failure(bundle)[0] == "The bundle file"


def test_intake_verify_needs_no_instance_and_exits_1_naming_the_failure(
        bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "none"))
    root = format_fingerprint(certificates()[0].digest)
    good = CliRunner().invoke(main, ["verify", str(bundle), "--root", root])
    assert good.exit_code == 0, good.output
    assert good.output.endswith("VERIFIED: every check above holds.\n")
    bad = CliRunner().invoke(main, ["verify", str(rewrite(bundle, lambda m: m.pop(
        "data/case.json")))])
    assert bad.exit_code == 1
    assert "NOT VERIFIED: The bag's files (BagIt, RFC 8493) fails: payload file " \
        "data/case.json is listed in the manifest but missing: it was removed." in bad.output
    assert not (tmp_path / "none").exists()


def test_the_export_day_is_a_day_never_a_time(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        info = BagReader(archive).read("bag-info.txt").decode()
    assert dt.date.fromisoformat(parse_bag_info(info.encode())["Bagging-Date"])
    assert ":0" not in info.replace("Intake-", "")


def _shared_case_log(actors: list[str | None]) -> tuple[bytes, bytes, list[dict[str, object]]]:
    """Return a log extract of entries about the case by these actors, the exporter's
    checkpoint on it, and the whole trail (every entry, without positions)."""
    import json

    from intake.crypto.signing import Use
    from intake.desk.audit import checkpoint_message, entry_digest
    from tests.evidence.bundles import CASE, EXPORTER

    chain = certificates()
    span, prev = [], "ab" * 32
    for position, actor in enumerate(actors, start=1):
        at = f"2026-01-01T10:0{position}:00+00:00"
        digest = entry_digest(prev, at, actor, "status", CASE, "corroborated")
        span.append({"position": position, "seq": position, "at": at, "actor": actor,
                     "action": "status", "subject": CASE, "detail": "corroborated",
                     "prev_hash": prev, "hash": digest})
        prev = digest
    message = checkpoint_message("main", len(actors), prev, "rev-1", len(chain),
                                 chain[-1].digest.hex())
    checkpoint = {"id": 1, "desk": "main", "entries": len(actors), "head": prev,
                  "account": "rev-1", "certificates": len(chain),
                  "chain_head": chain[-1].digest.hex(),
                  "signature": EXPORTER.sign(message, Use.AUDIT_CHECKPOINT).hex()}
    trail = [{k: v for k, v in e.items() if k != "position"} for e in span]
    return (b"".join(json.dumps(e).encode() + b"\n" for e in span),
            json.dumps([checkpoint]).encode(), trail)


def test_a_shared_cases_trail_may_leave_out_only_another_desks_accounts() -> None:
    """A case shared by two desks: this desk's bundle leaves out the other desk's reviewer's
    entry and verifies; a trail that leaves out this desk's own reviewer's entry, or the
    family's (no account), fails, however the rest matches."""
    import json

    from intake.crypto.chain import verify_chain
    from intake.evidence.custody import CustodyError, check_checkpoints
    from tests.evidence.bundles import CASE

    chain_certs = certificates()
    blobs = [c.to_bytes() for c in chain_certs]
    chain = verify_chain(chain_certs[0].digest, "main", blobs)
    span, checkpoints, trail = _shared_case_log([None, "rev-1", "other-desk-reviewer",
                                                 "rev-1"])
    without_other = json.dumps([trail[0], trail[1], trail[3]]).encode()
    assert check_checkpoints(chain, blobs, CASE, span, checkpoints,
                             without_other).checkpoints == 1
    for left_out in (0, 1):
        kept = [entry for n, entry in enumerate(trail) if n not in (left_out, 2)]
        with pytest.raises(CustodyError, match="is not exactly the case's entries"):
            check_checkpoints(chain, blobs, CASE, span, checkpoints, json.dumps(kept).encode())
