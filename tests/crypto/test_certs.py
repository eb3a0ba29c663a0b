"""Certificates and the chain check: every refusal names the certificate and the reason."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto.certs import (
    Certificate,
    MalformedCertificate,
    _issue,
    account_certificate,
    epoch_certificate,
    parse_certificate,
    revocation_certificate,
    root_certificate,
)
from intake.crypto.chain import CertificateError, Reason, verify_chain
from intake.crypto.keys import PrivateKey
from intake.crypto.signing import SigningPrivateKey

ADMIN = SigningPrivateKey.from_seed(bytes([1]) * 32, "cert-test")
RECOVERY = SigningPrivateKey.from_seed(bytes([2]) * 32, "cert-test")
DEPUTY = SigningPrivateKey.from_seed(bytes([3]) * 32, "cert-test")
REVIEWER = SigningPrivateKey.from_seed(bytes([4]) * 32, "cert-test")
STRANGER = SigningPrivateKey.from_seed(bytes([5]) * 32, "cert-test")
HPKE = PrivateKey.from_seed(bytes([6]) * 32, "cert-test").public_key
EPOCH = PrivateKey.from_seed(bytes([7]) * 32, "cert-test").public_key
DAY = dt.date(2026, 11, 27)


def desk(name: str = "main") -> list[Certificate]:
    """Root (admin), deputy admin and reviewer (vetted by the deputy), epoch 1, deputy revoked."""
    root = root_certificate(name, "admin", HPKE, ADMIN, RECOVERY.public_key, EPOCH)
    deputy = account_certificate(root, ADMIN, "deputy", "admin", HPKE, DEPUTY.public_key)
    reviewer = account_certificate(deputy, DEPUTY, "reviewer", "reviewer", HPKE,
                                   REVIEWER.public_key)
    epoch = epoch_certificate(reviewer, ADMIN, 1, EPOCH)
    return [root, deputy, reviewer, epoch, revocation_certificate(epoch, ADMIN, "deputy", DAY)]


MAIN = desk()
ROOT = MAIN[0].digest


def refusal(blobs: list[bytes], root: bytes = ROOT) -> tuple[Reason, int | None]:
    """Return the reason and certificate number of the chain's first refusal."""
    with pytest.raises(CertificateError) as caught:
        verify_chain(root, "main", blobs)
    return caught.value.reason, caught.value.seq


def blobs(certificates: list[Certificate]) -> list[bytes]:
    return [c.to_bytes() for c in certificates]


def test_a_good_chain_certifies_its_epoch_and_accounts() -> None:
    chain = verify_chain(ROOT, "main", blobs(MAIN))
    assert chain.current_epoch == 1
    chain.check_epoch(1, EPOCH.raw)
    assert chain.check_account("reviewer", HPKE.raw, REVIEWER.public_key.raw).role == "reviewer"
    assert chain.check_account("admin", HPKE.raw, ADMIN.public_key.raw).role == "admin"
    assert "deputy" not in chain.accounts
    assert chain.revoked == {"deputy": 4}
    assert chain.head == MAIN[-1].digest


def test_a_reviewer_vetted_before_their_admin_was_revoked_stays_certified() -> None:
    """Revoking the deputy does not undo what the deputy signed earlier in the chain."""
    verify_chain(ROOT, "main", blobs(MAIN)).check_account("reviewer", HPKE.raw,
                                                          REVIEWER.public_key.raw)


def test_certificates_round_trip_through_their_bytes() -> None:
    for certificate in MAIN:
        again = parse_certificate(certificate.to_bytes())
        assert again == certificate
        assert again.to_bytes() == certificate.to_bytes()


def test_the_root_fingerprint_is_sha256_of_the_version_byte_and_body() -> None:
    import hashlib
    data = MAIN[0].to_bytes()
    length = int.from_bytes(data[1:5], "big")
    assert hashlib.sha256(data[:1] + data[5:5 + length]).digest() == ROOT


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_order_certificates_are_stored_in_does_not_matter(shuffler: random.Random) -> None:
    stored = blobs(MAIN)
    shuffler.shuffle(stored)
    assert verify_chain(ROOT, "main", stored).head == MAIN[-1].digest


def test_another_pinned_root_refuses_the_chain() -> None:
    assert refusal(blobs(MAIN), root=desk("other")[0].digest) == (Reason.NO_ROOT, 0)


def test_a_chain_with_no_certificates_is_refused() -> None:
    assert refusal([]) == (Reason.NO_ROOT, 0)


@pytest.mark.parametrize(("offset", "half"), [(1, "ed25519"), (64, "ed25519-last"),
                                              (65, "ml-dsa"), (3373, "ml-dsa-last")])
@pytest.mark.parametrize("seq", [0, 3])
def test_a_certificate_with_one_signature_half_edited_is_refused(offset: int, half: str,
                                                                 seq: int) -> None:
    stored = blobs(MAIN)
    data = bytearray(stored[seq])
    data[len(data) - 3374 + offset] ^= 1
    stored[seq] = bytes(data)
    assert refusal(stored) == (Reason.BAD_SIGNATURE, seq)


def test_a_certificate_with_an_edited_field_is_refused() -> None:
    """Epoch 1's key is replaced by another key in the stored body: the signature breaks."""
    stored = blobs(MAIN)
    other = PrivateKey.from_seed(bytes([9]) * 32, "cert-test").public_key
    stored[3] = stored[3].replace(EPOCH.raw.hex().encode(), other.raw.hex().encode())
    assert refusal(stored) == (Reason.BAD_SIGNATURE, 3)


def test_a_certificate_of_another_desk_is_refused() -> None:
    """The same admin keys sign the same statement for desk 'other'; it is not main's."""
    other = desk("other")
    forged = epoch_certificate(MAIN[-1], ADMIN, 2, EPOCH)
    swapped = _issue(ADMIN, {**forged.fields, "desk": "other"})
    assert other[3].get("desk") == "other"
    assert refusal(blobs(MAIN) + [swapped.to_bytes()]) == (Reason.WRONG_DESK, 5)


def test_a_certificate_signed_by_a_revoked_admin_after_the_revocation_is_refused() -> None:
    late = epoch_certificate(MAIN[-1], DEPUTY, 2, EPOCH)
    assert refusal(blobs(MAIN + [late])) == (Reason.REVOKED_ISSUER, 5)


def test_a_revoked_admin_cannot_backdate_a_certificate_before_the_revocation() -> None:
    """Signed as if it were number 4 (before the revocation): number 4 is taken."""
    backdated = epoch_certificate(MAIN[3], DEPUTY, 2, EPOCH)
    assert refusal(blobs(MAIN) + [backdated.to_bytes()]) == (Reason.OUT_OF_ORDER, 4)


def test_a_revoked_admin_dropping_the_revocation_breaks_nothing_after_it_unseen() -> None:
    """Replacing the revocation with the deputy's own number 4 is caught by the next link."""
    backdated = epoch_certificate(MAIN[3], DEPUTY, 2, EPOCH)
    after = epoch_certificate(MAIN[4], ADMIN, 3, EPOCH)
    assert refusal(blobs(MAIN[:4] + [backdated, after])) == (Reason.BROKEN_LINK, 5)


def test_a_certificate_from_an_unknown_key_is_refused() -> None:
    assert refusal(blobs(MAIN + [epoch_certificate(MAIN[-1], STRANGER, 2, EPOCH)])) == (
        Reason.UNKNOWN_ISSUER, 5)


def test_a_chain_through_an_unvetted_account_is_refused() -> None:
    """A reviewer is certified but not an admin: what they vet is not certified."""
    vetted = account_certificate(MAIN[-1], REVIEWER, "friend", "admin", HPKE,
                                 STRANGER.public_key)
    assert refusal(blobs(MAIN + [vetted])) == (Reason.UNKNOWN_ISSUER, 5)


def test_an_admin_demoted_to_reviewer_can_no_longer_issue() -> None:
    demoted = account_certificate(MAIN[-1], ADMIN, "admin", "reviewer", HPKE, ADMIN.public_key)
    late = epoch_certificate(demoted, ADMIN, 2, EPOCH)
    assert refusal(blobs(MAIN + [demoted, late])) == (Reason.UNKNOWN_ISSUER, 6)


def test_an_admin_whose_keys_were_replaced_signs_only_with_the_new_key() -> None:
    replaced = account_certificate(MAIN[-1], ADMIN, "admin", "admin", HPKE, STRANGER.public_key)
    assert verify_chain(ROOT, "main", blobs(MAIN + [
        replaced, epoch_certificate(replaced, STRANGER, 2, EPOCH)])).current_epoch == 2
    assert refusal(blobs(MAIN + [replaced, epoch_certificate(replaced, ADMIN, 2, EPOCH)])) == (
        Reason.UNKNOWN_ISSUER, 6)


def test_the_recovery_key_can_issue() -> None:
    recovered = epoch_certificate(MAIN[-1], RECOVERY, 2, EPOCH)
    assert verify_chain(ROOT, "main", blobs(MAIN + [recovered])).current_epoch == 2


def test_a_missing_certificate_is_refused() -> None:
    assert refusal(blobs(MAIN[:2] + MAIN[3:])) == (Reason.OUT_OF_ORDER, 3)


def test_a_repeated_certificate_is_refused() -> None:
    assert refusal(blobs(MAIN + [MAIN[2]])) == (Reason.OUT_OF_ORDER, 2)


def test_a_second_root_inside_the_chain_is_refused() -> None:
    second = _issue(ADMIN, {**MAIN[0].fields, "seq": 5, "prev": MAIN[-1].digest})
    assert refusal(blobs(MAIN + [second])) == (Reason.NO_ROOT, 5)


def test_a_revoked_account_cannot_be_certified_again() -> None:
    again = account_certificate(MAIN[-1], ADMIN, "deputy", "admin", HPKE, DEPUTY.public_key)
    assert refusal(blobs(MAIN + [again])) == (Reason.REVOKED_ACCOUNT, 5)


def test_an_epoch_cannot_be_certified_twice() -> None:
    assert refusal(blobs(MAIN + [epoch_certificate(MAIN[-1], ADMIN, 1, HPKE)])) == (
        Reason.EPOCH_REUSED, 5)


def test_revoking_an_account_never_certified_is_refused() -> None:
    assert refusal(blobs(MAIN + [revocation_certificate(MAIN[-1], ADMIN, "nobody", DAY)])) == (
        Reason.UNKNOWN_ACCOUNT, 5)


def test_a_root_whose_issuer_is_not_its_admin_is_refused() -> None:
    root = _issue(STRANGER, {k: v for k, v in MAIN[0].fields.items() if k != "issuer"})
    assert refusal([root.to_bytes()], root=root.digest) == (Reason.UNKNOWN_ISSUER, 0)


def test_keys_the_chain_does_not_certify_are_refused_by_name() -> None:
    chain = verify_chain(ROOT, "main", blobs(MAIN))
    with pytest.raises(CertificateError, match="^the chain: the key is not certified"):
        chain.check_epoch(1, HPKE.raw)
    with pytest.raises(CertificateError):
        chain.check_epoch(2, EPOCH.raw)
    with pytest.raises(CertificateError):
        chain.check_account("reviewer", HPKE.raw, STRANGER.public_key.raw)
    with pytest.raises(CertificateError):
        chain.check_account("deputy", HPKE.raw, DEPUTY.public_key.raw)


def test_the_error_names_the_certificate_and_the_reason() -> None:
    late = epoch_certificate(MAIN[-1], DEPUTY, 2, EPOCH)
    with pytest.raises(CertificateError, match=r"^certificate 5 \(epoch\): the issuer was "
                                               r"revoked before it signed$"):
        verify_chain(ROOT, "main", blobs(MAIN + [late]))


def body_of(certificate: Certificate) -> dict[str, object]:
    return json.loads(certificate.signed[1:])


def with_body(certificate: Certificate, body: bytes) -> bytes:
    return b"\x01" + len(body).to_bytes(4, "big") + body + certificate.signature


@pytest.mark.parametrize("edit", [
    lambda b: json.dumps(b, sort_keys=True).encode(),  # spaces after separators
    lambda b: json.dumps(b, separators=(",", ":")).encode()[::-1],
    lambda b: json.dumps({**b, "epoch": 1.0}, sort_keys=True, separators=(",", ":")).encode(),
    lambda b: json.dumps({**b, "epoch": True}, sort_keys=True, separators=(",", ":")).encode(),
    lambda b: json.dumps({**b, "extra": 1}, sort_keys=True, separators=(",", ":")).encode(),
    lambda b: json.dumps({k: v for k, v in b.items() if k != "epoch"}, sort_keys=True,
                         separators=(",", ":")).encode(),
    lambda b: json.dumps({**b, "hpke": str(b["hpke"]).upper()}, sort_keys=True,
                         separators=(",", ":")).encode(),
    lambda b: json.dumps({**b, "kind": "grant"}, sort_keys=True, separators=(",", ":")).encode(),
    lambda b: json.dumps([b]).encode(),
    lambda b: b"\xff",
], ids=["spaces", "reversed", "float", "bool", "extra-field", "missing-field",
        "upper-case-hex", "unknown-kind", "list", "not-utf8"])
def test_a_non_canonical_or_unknown_body_is_malformed(edit: object) -> None:
    assert callable(edit)
    data = with_body(MAIN[3], edit(body_of(MAIN[3])))
    with pytest.raises(MalformedCertificate):
        parse_certificate(data)
    assert refusal(blobs(MAIN[:3]) + [data]) == (Reason.MALFORMED, None)


@pytest.mark.parametrize("cut", [0, 1, 5, -1])
def test_a_truncated_or_relabelled_certificate_is_malformed(cut: int) -> None:
    data = MAIN[3].to_bytes()
    with pytest.raises(MalformedCertificate):
        parse_certificate(data[:cut])
    with pytest.raises(MalformedCertificate):
        parse_certificate(b"\x02" + data[1:])


def test_a_certificate_issued_with_an_unknown_role_is_refused_at_making() -> None:
    with pytest.raises(ValueError, match="admin or reviewer"):
        account_certificate(MAIN[-1], ADMIN, "x", "owner", HPKE, STRANGER.public_key)


@pytest.mark.parametrize(("name", "value"), [("role", "owner"), ("account", "../admin"),
                                             ("desk", "Main")])
def test_a_signed_certificate_with_an_unknown_role_or_bad_id_is_malformed(name: str,
                                                                           value: str) -> None:
    fields = {k: v for k, v in MAIN[2].fields.items() if k != "issuer"}
    signed = _issue_unchecked(ADMIN, {**fields, name: value})
    with pytest.raises(MalformedCertificate, match="unknown role or an invalid id"):
        parse_certificate(signed)


def _issue_unchecked(issuer: SigningPrivateKey, fields: dict[str, object]) -> bytes:
    """Sign a body as an admin's key would, without the checks of the certificate makers."""
    from intake.crypto.certs import _canonical
    from intake.crypto.signing import Use
    body = _canonical({**fields, "issuer": issuer.fingerprint})  # type: ignore[dict-item]
    return (b"\x01" + len(body).to_bytes(4, "big") + body
            + issuer.sign(b"\x01" + body, Use.CERTIFICATE))
