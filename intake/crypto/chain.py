"""Check a desk's certificate chain against a pinned root fingerprint.

The chain is replayed in sequence order from the root. At each certificate
the state so far decides who may issue it: the root's admin and recovery
key, and every account certified as admin and not yet revoked. A certificate
that fails stops the check with a CertificateError naming it and the reason,
for the alarm page; nothing after a break is trusted.

What this does not catch on its own: a chain cut short (its newest
certificates, a revocation among them, dropped). Checking that needs a head
the account has seen before (audit checkpoints); see SECURITY.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from .certs import Certificate, Kind, MalformedCertificate, parse_certificate
from .signing import SignatureError, SigningPublicKey, Use


class Reason(Enum):
    """Why a certificate was refused."""

    MALFORMED = "the certificate is malformed"
    NO_ROOT = "the chain does not start with the pinned root"
    WRONG_DESK = "the certificate belongs to another desk"
    OUT_OF_ORDER = "the certificate is missing, repeated or out of order in the chain"
    BROKEN_LINK = "the certificate does not follow the one before it"
    UNKNOWN_ISSUER = "the issuer is not a certified admin of this desk"
    REVOKED_ISSUER = "the issuer was revoked before it signed"
    BAD_SIGNATURE = "the signature is not valid"
    REVOKED_ACCOUNT = "the account was revoked and cannot be certified again"
    EPOCH_REUSED = "the epoch was already certified"
    UNKNOWN_ACCOUNT = "the revoked account was never certified"
    NOT_CERTIFIED = "the key is not certified by this desk's chain"


class CertificateError(Exception):
    """A certificate chain did not check out; says which certificate and why."""

    def __init__(self, reason: Reason, seq: int | None, kind: str | None = None) -> None:
        where = "the chain" if seq is None else f"certificate {seq} ({kind or 'unknown'})"
        super().__init__(f"{where}: {reason.value}")
        self.reason = reason
        self.seq = seq
        self.kind = kind


@dataclass(frozen=True)
class Member:
    """An account's certified keys and role."""

    account: str
    role: str
    hpke: bytes
    signing: bytes


@dataclass
class Chain:
    """What a verified chain certifies."""

    desk: str
    root: bytes
    head: bytes = b""
    length: int = 0
    epochs: dict[int, bytes] = field(default_factory=dict)
    accounts: dict[str, Member] = field(default_factory=dict)
    revoked: dict[str, int] = field(default_factory=dict)
    # The recovery key's HPKE public key: every epoch is granted to it, and to no other.
    recovery_hpke: bytes = b""
    # Every signing key each account was ever certified with, revoked or replaced ones too,
    # with the certificates it was certified from and until (the one that replaced or
    # revoked it, None while current): what it signed while certified (audit checkpoints)
    # still verifies, and nothing it signed after.
    signing_history: dict[str, list[tuple[bytes, int, int | None]]] = field(
        default_factory=dict)
    # Who may issue the next certificate: fingerprint -> signing key, for the
    # recovery key and every current admin; and the fingerprints of revoked
    # accounts' keys, only to name the reason when one of them signs.
    issuers: dict[bytes, SigningPublicKey] = field(default_factory=dict, repr=False)
    retired: set[bytes] = field(default_factory=set, repr=False)

    @property
    def current_epoch(self) -> int:
        """Return the newest certified epoch."""
        if not self.epochs:
            raise CertificateError(Reason.NOT_CERTIFIED, None)
        return max(self.epochs)

    def check_epoch(self, epoch: int, hpke_public: bytes) -> None:
        """Raise unless `epoch` is certified with exactly this public key."""
        if self.epochs.get(epoch) != hpke_public:
            raise CertificateError(Reason.NOT_CERTIFIED, None, f"epoch {epoch}")

    def check_account(self, account: str, hpke_public: bytes, signing_public: bytes) -> Member:
        """Return the account's role, raising unless these are its certified keys."""
        member = self.accounts.get(account)
        if member is None or (member.hpke, member.signing) != (hpke_public, signing_public):
            raise CertificateError(Reason.NOT_CERTIFIED, None, f"account {account}")
        return member

    def signing_keys_at(self, account: str, length: int) -> list[bytes]:
        """Return the signing keys certified for `account` in the chain's first `length`."""
        return [key for key, first, until in self.signing_history.get(account, [])
                if first < length and (until is None or until >= length)]

    def _retire_signing(self, account: str, seq: int) -> None:
        history = self.signing_history.get(account)
        if history and history[-1][2] is None:
            history[-1] = (history[-1][0], history[-1][1], seq)

    def _admit(self, member: Member, seq: int) -> None:
        old = self.accounts.pop(member.account, None)
        if old is not None:
            self.issuers.pop(hashlib.sha256(old.signing).digest(), None)
        self.accounts[member.account] = member
        self._retire_signing(member.account, seq)
        self.signing_history.setdefault(member.account, []).append((member.signing, seq, None))
        if member.role == "admin":
            key = SigningPublicKey(member.signing)
            self.issuers[key.fingerprint] = key

    def _revoke(self, account: str, seq: int) -> None:
        member = self.accounts.pop(account)
        fingerprint = hashlib.sha256(member.signing).digest()
        self.issuers.pop(fingerprint, None)
        self.retired.add(fingerprint)
        self.revoked[account] = seq
        self._retire_signing(account, seq)


def verify_chain(root_fingerprint: bytes, desk: str, blobs: Iterable[bytes]) -> Chain:
    """Replay a desk's certificates from the pinned root, raising at the first bad one."""
    certificates = sorted((_parse(blob) for blob in blobs), key=lambda c: c.seq)
    if not certificates or certificates[0].digest != root_fingerprint:
        raise CertificateError(Reason.NO_ROOT, 0, "root")
    chain = Chain(desk=desk, root=root_fingerprint)
    for expected_seq, certificate in enumerate(certificates):
        _check_place(chain, certificate, expected_seq)
        _check_issuer(chain, certificate)
        _apply(chain, certificate)
        chain.head, chain.length = certificate.digest, expected_seq + 1
    return chain


def _parse(blob: bytes) -> Certificate:
    try:
        return parse_certificate(blob)
    except MalformedCertificate as exc:
        raise CertificateError(Reason.MALFORMED, None) from exc


def _check_place(chain: Chain, certificate: Certificate, expected_seq: int) -> None:
    fail = _failer(certificate)
    if certificate.get("desk") != chain.desk:
        raise fail(Reason.WRONG_DESK)
    if certificate.seq != expected_seq:
        raise fail(Reason.OUT_OF_ORDER)
    is_root = certificate.kind is Kind.ROOT
    if is_root != (expected_seq == 0):
        raise fail(Reason.NO_ROOT)
    if certificate.get("prev") != (chain.head or bytes(32)):
        raise fail(Reason.BROKEN_LINK)


def _check_issuer(chain: Chain, certificate: Certificate) -> None:
    fail = _failer(certificate)
    if certificate.kind is Kind.ROOT:
        key = SigningPublicKey(certificate.get("signing"))
        if key.fingerprint != certificate.get("issuer"):
            raise fail(Reason.UNKNOWN_ISSUER)
    else:
        found = chain.issuers.get(certificate.get("issuer"))
        if found is None:
            revoked = certificate.get("issuer") in chain.retired
            raise fail(Reason.REVOKED_ISSUER if revoked else Reason.UNKNOWN_ISSUER)
        key = found
    try:
        key.verify(certificate.signature, certificate.signed, Use.CERTIFICATE)
    except SignatureError as exc:
        raise fail(Reason.BAD_SIGNATURE) from exc


def _apply(chain: Chain, certificate: Certificate) -> None:
    fail, kind = _failer(certificate), certificate.kind
    if kind is Kind.EPOCH:
        if certificate.get("epoch") in chain.epochs:
            raise fail(Reason.EPOCH_REUSED)
        chain.epochs[certificate.get("epoch")] = certificate.get("hpke")
        return
    account = certificate.get("account")
    if kind is Kind.REVOCATION:
        if account not in chain.accounts:
            raise fail(Reason.UNKNOWN_ACCOUNT)
        chain._revoke(account, certificate.seq)
        return
    if account in chain.revoked:
        raise fail(Reason.REVOKED_ACCOUNT)
    role = "admin" if kind is Kind.ROOT else certificate.get("role")
    chain._admit(Member(account, role, certificate.get("hpke"), certificate.get("signing")),
                 certificate.seq)
    if kind is Kind.ROOT:
        recovery = SigningPublicKey(certificate.get("recovery"))
        chain.issuers[recovery.fingerprint] = recovery
        chain.recovery_hpke = certificate.get("recovery_hpke")


def _failer(certificate: Certificate) -> Callable[[Reason], CertificateError]:
    seq, kind = certificate.seq, certificate.kind.value

    def fail(reason: Reason) -> CertificateError:
        return CertificateError(reason, seq, kind)

    return fail
