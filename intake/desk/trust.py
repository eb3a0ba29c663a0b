"""The signed keyring in use: certificates issued as keys are made, checked before keys are trusted.

Who trusts what:

- An account trusts the root fingerprint pinned inside its passphrase-wrapped
  keys. At login its chain is checked against that root, so nobody who can
  only write the keyring, the database or a backup can move what it trusts.
- The server trusts `ROOT_FINGERPRINT` from the instance's config.py (written
  by `intake init`, `intake keys certify` and `intake restore --root`). Where
  config.py names no root but the keyring holds a chain, the server checks the
  chain against its own first certificate and `intake keys status` says that
  the root is not pinned. Before any submission is sealed, the keyring's
  current epoch must be the newest certified epoch, with the certified key.
- An instance made before certificates existed has neither a root nor a
  chain: it runs in warning mode (sealing as before, `intake keys status`
  saying so) until an admin runs `intake keys certify`. A configured root with
  no chain is never warning mode: that is a deleted chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from intake.crypto import AccountKeys, Epoch, Keyring, KeyringError
from intake.crypto.certs import (
    Certificate,
    account_certificate,
    epoch_certificate,
    parse_certificate,
    revocation_certificate,
    root_certificate,
)
from intake.crypto.chain import CertificateError, Chain, Member, verify_chain
from intake.crypto.files import atomic_write
from intake.crypto.keys import PrivateKey, PublicKey
from intake.crypto.signing import SigningPrivateKey, SigningPublicKey, format_fingerprint
from intake.desk.audit import contradicting_checkpoint
from intake.store.models import User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Verified chains kept: a few per desk (a chain and its next certificate), for a coalition
# of a dozen desks sealing one testimony to each.
_CACHE_SIZE = 32
_verified: dict[bytes, Chain] = {}
T = TypeVar("T")


class TrustError(Exception):
    """The keyring does not chain to the root it must chain to; the message says what changed."""


@dataclass(frozen=True)
class Signer:
    """An unlocked account able to issue certificates: its signing key and pinned root."""

    account: str
    key: SigningPrivateKey
    root: bytes


def fingerprint_text(root: bytes) -> str:
    """Render a root fingerprint for printing and comparing aloud."""
    return format_fingerprint(root)


# How much of an account's fingerprint its owner reads to the vetting admin: 3 groups of
# 4 base32 characters, 60 bits, more than anyone can match by generating keys.
CONFIRM_CHARACTERS = 12


def account_fingerprint(keyring: Keyring, user_id: str) -> str | None:
    """Name an account's keys as the keyring holds them (HPKE and signing), for reading aloud.

    None before the account has a signing key. What vetting certifies is exactly
    what this names, so an admin who compares it with what the owner saw at
    enrolment notices keys swapped into the keyring.
    """
    signing = keyring.signing_key(user_id)
    if signing is None:
        return None
    hpke = keyring.user_key(user_id)[0]
    return format_fingerprint(hashlib.sha256(b"intake/account-keys\x00" + hpke.raw
                                             + signing).digest())


def confirms(fingerprint: str | None, typed: str) -> bool:
    """Say whether `typed` is the start of `fingerprint` (case, spaces and dashes forgiven)."""
    if fingerprint is None:
        return False
    wanted = fingerprint.replace("-", "")[:CONFIRM_CHARACTERS]
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    return hmac.compare_digest(cleaned[:CONFIRM_CHARACTERS].encode(), wanted.encode()) \
        and len(cleaned) >= CONFIRM_CHARACTERS


def load_chain(keyring: Keyring, desk_id: str, root: bytes) -> Chain:
    """Verify a desk's chain from `root`, raising TrustError at the first bad certificate."""
    blobs = keyring.certificates(desk_id)
    # Keyed by every byte checked, so a cached answer is the answer for these exact bytes.
    digest = hashlib.sha256(b"".join([root, desk_id.encode(), b"\x00"] + [
        len(blob).to_bytes(4, "big") + blob for blob in blobs])).digest()
    chain = _verified.get(digest)
    if chain is None:
        try:
            chain = verify_chain(root, desk_id, blobs)
        except CertificateError as exc:
            raise TrustError(f"the keyring's certificates do not check out: {exc}") from exc
        if len(_verified) >= _CACHE_SIZE:
            _verified.pop(next(iter(_verified)))
        _verified[digest] = chain
    return chain


def server_root(keyring: Keyring, desk_id: str, configured: bytes | None) -> bytes | None:
    """Return the root the server checks against; None only in warning mode."""
    if configured is not None:
        return configured
    blobs = keyring.certificates(desk_id)
    if not blobs:
        return None
    try:
        return parse_certificate(blobs[0]).digest
    except ValueError as exc:
        raise TrustError("the keyring's first certificate is unreadable") from exc


def certified_current(chain: Chain, keyring: Keyring) -> Epoch:
    """Return the newest certified epoch, raising TrustError unless the keyring holds its key.

    New testimony is sealed to this epoch, whatever the keyring's desk file
    names as current: an attacker can neither roll the desk back to an older
    epoch (whose key a revoked reviewer may have kept) nor forward to one no
    admin certified. A rotation that stopped after certifying its epoch and
    before switching to it is sealed to already, which the rotation resumes.
    """
    try:
        newest = chain.current_epoch
    except CertificateError as exc:
        raise TrustError("no epoch of this desk is certified") from exc
    try:
        epoch = keyring.epoch(chain.desk, newest)
    except KeyringError as exc:
        raise TrustError(f"the newest certified epoch, {newest}, is missing from the "
                         "keyring") from exc
    if chain.epochs[newest] != epoch.public_key.raw:
        raise TrustError(f"the public key of epoch {newest} in the keyring is not the one "
                         "its certificate names")
    current = keyring.desk(chain.desk).current_epoch
    if current > newest or current not in chain.epochs:
        raise TrustError(f"the keyring makes epoch {current} current, but the newest "
                         f"certified epoch is {newest}")
    return epoch


def sealing_epoch(keyring: Keyring, desk_id: str, configured_root: bytes | None,
                  db: Session | None = None, water: HighWater | None = None) -> Epoch:
    """Return the epoch a submission may be sealed to, or raise TrustError.

    With the database, a chain shorter than a signed checkpoint saw is refused too: cutting
    the newest certificates would otherwise roll sealing back to an older epoch.
    """
    root = server_root(keyring, desk_id, configured_root)
    if root is None:
        return keyring.current_epoch(desk_id)

    def check() -> Epoch:
        chain = load_chain(keyring, desk_id, root)
        check_not_cut(db, keyring, chain, water)
        return certified_current(chain, keyring)

    return _twice(check)


def _twice(check: Callable[[], T]) -> T:
    """Run a check; if it fails, read everything again and run it once more.

    A rotation on this or another server may add a certificate, record it as the
    longest chain seen and switch the desk to it between two of the check's reads:
    seen half before and half after, that looks like a cut chain. Read again, a
    real cut or swap still fails; a rotation in progress no longer does.
    """
    try:
        return check()
    except TrustError:
        return check()


def check_account(chain: Chain, user: User, hpke: PublicKey,
                  signing: SigningPublicKey | None) -> Member | None:
    """Return the account's certificate entry if these are its certified keys, else None.

    Raises TrustError when the database contradicts the chain: an account the
    chain revoked, or a role other than the certified one.
    """
    if user.id in chain.revoked:
        raise TrustError(f"this account was revoked by certificate {chain.revoked[user.id]}")
    member = chain.accounts.get(user.id)
    if member is None:
        return None
    if member.hpke != hpke.raw or signing is None or member.signing != signing.raw:
        # Keys its owner replaced since it was vetted: it must be vetted again.
        return None
    if member.role != user.role:
        raise TrustError(f"the database gives this account the role {user.role}, "
                         f"its certificate the role {member.role}")
    return member


def certified_epochs(chain: Chain, member: Member | None,
                     epoch_keys: dict[tuple[str, int], PrivateKey]
                     ) -> dict[tuple[str, int], PrivateKey]:
    """Keep only the opened epoch keys of this desk that the chain certifies, for a member."""
    if member is None:
        return {}
    return {(desk, n): key for (desk, n), key in epoch_keys.items()
            if desk == chain.desk and chain.epochs.get(n) == key.public_key.raw}


def is_certified(keyring: Keyring, desk_id: str, root: bytes | None, user: User) -> bool:
    """Say whether an account's keys in the keyring are certified (always true in warning mode)."""
    if root is None:
        return True
    try:
        chain = load_chain(keyring, desk_id, root)
        hpke = keyring.user_key(user.id)[0]
        signing = keyring.signing_key(user.id)
        return check_account(chain, user, hpke,
                             SigningPublicKey(signing) if signing else None) is not None
    except (TrustError, KeyringError, ValueError):
        return False


def start_chain(keyring: Keyring, desk_id: str, account: str, hpke: PublicKey,
                admin: SigningPrivateKey, recovery: SigningPublicKey, recovery_hpke: PublicKey,
                epoch: Epoch, water: HighWater | None = None) -> bytes:
    """Write a desk's root and its first epoch's certificate; return the root fingerprint."""
    root = root_certificate(desk_id, account, hpke, admin, recovery, recovery_hpke)
    keyring.append_certificate(desk_id, root.seq, root.to_bytes())
    first = epoch_certificate(root, admin, epoch.id, epoch.public_key)
    keyring.append_certificate(desk_id, first.seq, first.to_bytes())
    if water is not None:
        water.raise_to(keyring, desk_id, root.digest)
    return root.digest


def certify_epoch(keyring: Keyring, signer: Signer, epoch: Epoch,
                  water: HighWater | None = None) -> None:
    """Certify a new epoch's public key before it becomes current (once per epoch)."""
    chain = load_chain(keyring, epoch.desk_id, signer.root)
    if chain.epochs.get(epoch.id) == epoch.public_key.raw:
        return  # a resumed rotation certified it before it stopped
    _issue(keyring, epoch.desk_id, signer,
           lambda prev: epoch_certificate(prev, signer.key, epoch.id, epoch.public_key), water)


def certify_account(keyring: Keyring, desk_id: str, signer: Signer, user: User,
                    water: HighWater | None = None) -> None:
    """Certify an account's keys as the keyring holds them, and its role (at vetting)."""
    if user.role not in ("admin", "reviewer"):
        # An operator belongs to no desk: no desk's chain may ever name it.
        raise TrustError(f"an account of role {user.role} is never certified by a desk")
    hpke, signing = keyring.user_key(user.id)[0], keyring.signing_key(user.id)
    if signing is None:
        raise TrustError("this account has no signing key yet: its owner must log in once")
    chain = load_chain(keyring, desk_id, signer.root)
    member = chain.accounts.get(user.id)
    if member == Member(user.id, user.role, hpke.raw, signing):
        return
    _issue(keyring, desk_id, signer, lambda prev: account_certificate(
        prev, signer.key, user.id, user.role, hpke, SigningPublicKey(signing)), water)


def certify_revocation(keyring: Keyring, desk_id: str, signer: Signer, user_id: str,
                       day: dt.date, water: HighWater | None = None) -> bool:
    """Certify that an account is revoked, if the chain certifies it; say whether it did."""
    chain = load_chain(keyring, desk_id, signer.root)
    if user_id not in chain.accounts:
        return False
    _issue(keyring, desk_id, signer,
           lambda prev: revocation_certificate(prev, signer.key, user_id, day), water)
    return True


def _issue(keyring: Keyring, desk_id: str, signer: Signer,
           make: Callable[[Certificate], Certificate], water: HighWater | None = None) -> None:
    """Append the next certificate, checking the chain accepts it before it is written."""
    for _ in range(3):
        blobs = keyring.certificates(desk_id)
        chain = load_chain(keyring, desk_id, signer.root)
        del chain  # checked: the chain up to here is sound
        certificate = make(parse_certificate(blobs[-1]))
        try:
            verify_chain(signer.root, desk_id, [*blobs, certificate.to_bytes()])
        except CertificateError as exc:
            raise TrustError(f"this certificate would not be accepted: {exc}") from exc
        try:
            keyring.append_certificate(desk_id, certificate.seq, certificate.to_bytes())
            if water is not None:
                # Remembered outside the keyring at once: cutting it again is then refused.
                water.raise_to(keyring, desk_id, signer.root)
            return
        except KeyringError:
            continue  # another admin took this number first: build on theirs
    raise TrustError("the certificate chain kept changing while this certificate was made")


def at_login(keyring: Keyring, desk_id: str, user: User, keys: AccountKeys,
             epoch_keys: dict[tuple[str, int], PrivateKey]
             ) -> tuple[dict[tuple[str, int], PrivateKey], Chain | None]:
    """Check the chain against the account's pinned root; return the epoch keys it may use
    and the chain it checked (None for an account with no pinned root).

    Raises TrustError, naming what changed, on any break. An account not yet
    certified (enrolled, awaiting vetting) logs in with no epoch keys; an
    account with no pinned root (warning mode) keeps what its grants open.
    """
    if keys.root is None or keys.signing_key is None:
        return epoch_keys, None
    # What others seal to and certify is read from the keyring: it must be this account's.
    if keyring.user_key(user.id)[0] != keys.key.public_key \
            or keyring.signing_key(user.id) != keys.signing_key.public_key.raw:
        raise TrustError("the keyring holds public keys for this account that are not the "
                         "ones its passphrase unlocks: grants and certificates would go to "
                         "someone else's key")
    root = keys.root

    def check() -> Chain:
        chain = load_chain(keyring, desk_id, root)
        certified_current(chain, keyring)
        return chain

    chain = _twice(check)
    member = check_account(chain, user, keys.key.public_key, keys.signing_key.public_key)
    return certified_epochs(chain, member, epoch_keys), chain


def check_not_cut(db: Session | None, keyring: Keyring, chain: Chain,
                  water: HighWater | None = None) -> None:
    """Raise TrustError if the instance or a signed checkpoint saw a chain this one does not
    extend (read once more first: a rotation may have just extended it)."""
    try:
        _check_not_cut(db, keyring, chain, water)
    except TrustError:
        fresh = load_chain(keyring, chain.desk, chain.root)
        if fresh.length <= chain.length:
            raise
        _check_not_cut(db, keyring, fresh, water)


def _check_not_cut(db: Session | None, keyring: Keyring, chain: Chain,
                  water: HighWater | None = None) -> None:
    """Raise TrustError if the instance or a signed checkpoint saw a chain this one does not
    extend."""
    blobs = keyring.certificates(chain.desk)
    if water is not None:
        water.check(chain, blobs)
    if db is None:
        return
    found = contradicting_checkpoint(db, chain, blobs)
    if found is not None:
        raise TrustError(f"a login signed checkpoint {found.id} over a chain of "
                         f"{found.chain_length} certificates; the keyring now holds "
                         f"{chain.length} that do not extend it: certificates were cut from "
                         "the chain or replaced")


def signer_of(user: User, keys: AccountKeys) -> Signer | None:
    """Return what an unlocked account signs with (None before it has a pinned root)."""
    if keys.signing_key is None or keys.root is None:
        return None
    return Signer(user.id, keys.signing_key, keys.root)


@dataclass(frozen=True)
class Status:
    """How the keyring stands against its root, for `intake keys status` and the keys page."""

    root: bytes | None
    pinned: bool
    problem: str | None
    uncertified: list[str]
    recovery_problem: str | None = None

    @property
    def root_text(self) -> str:
        """Return the root fingerprint as printed at `intake init` ("" in warning mode)."""
        return fingerprint_text(self.root) if self.root else ""

    @property
    def warning_mode(self) -> bool:
        """Say whether the keyring is not certified yet (an instance from before certificates)."""
        return self.root is None and self.problem is None


def status(keyring: Keyring, desk_id: str, configured: bytes | None,
           users: list[User]) -> Status:
    """Check the chain as the server does; list the active accounts it does not certify."""
    try:
        root = server_root(keyring, desk_id, configured)
    except TrustError as exc:
        return Status(None, configured is not None, str(exc), [])
    if root is None:
        return Status(None, False, None, [])
    try:
        sealing_epoch(keyring, desk_id, root)
    except TrustError as exc:
        return Status(root, configured is not None, str(exc), [])
    uncertified = [user.name for user in users
                   if user.state == "active" and not is_certified(keyring, desk_id, root, user)]
    recovery = None
    if keyring.recovery_key(desk_id).raw != load_chain(keyring, desk_id, root).recovery_hpke:
        recovery = ("the recovery key in the keyring is not the one the root certificate "
                    "names; a rotation refuses to grant new epochs to it")
    return Status(root, configured is not None, None, uncertified, recovery)


def status_lines(state: Status) -> list[str]:
    """Describe a Status in plain sentences (the command line prints them)."""
    if state.warning_mode:
        return ["WARNING: this keyring is not certified yet, so nothing checks that new "
                "testimony is sealed to a key an admin made. Run `intake keys certify --admin "
                "NAME` (it needs that admin's passphrase and the recovery key)."]
    lines = [f"root fingerprint: {state.root_text or 'unknown'}"]
    if not state.pinned:
        lines.append("WARNING: config.py does not pin ROOT_FINGERPRINT, so the server checks the "
                     "keyring against its own first certificate; set it to the fingerprint "
                     "printed at `intake init`.")
    if state.problem:
        lines.append(f"ALARM: the family side is offline and seals nothing: {state.problem}")
    else:
        lines.append("the keyring chains to this root; new testimony is sealed to a certified "
                     "epoch")
    if state.recovery_problem:
        lines.append(f"ALARM: {state.recovery_problem}")
    if state.uncertified:
        lines.append("accounts whose keys are not certified (they read nothing until an admin "
                     f"vets them): {', '.join(sorted(state.uncertified))}")
    return lines


class HighWater:
    """The longest chain this instance has seen, per desk, kept in the instance folder.

    Certificates cut from the end of a chain leave a chain that still verifies, and
    checkpoints, which would show the cut, live in the database an attacker may also
    write. This file is beside config.py (which pins the root), not in the keyring or
    the database: the server refuses a chain that does not extend it. It only grows.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def check(self, chain: Chain, blobs: list[bytes]) -> None:
        """Raise TrustError unless `chain` extends the longest one seen; then remember it."""
        marks = self._read()
        seen = marks.get(chain.desk)
        if seen is not None:
            length, head = int(str(seen[0])), str(seen[1])
            if chain.length < length or hashlib.sha256(
                    parse_certificate(blobs[length - 1]).signed).hexdigest() != head:
                raise TrustError(f"this instance has seen a chain of {length} certificates; "
                                 f"the keyring now holds {chain.length} that do not extend it: "
                                 "certificates were cut from the chain or replaced")
            if chain.length == length:
                return
        marks[chain.desk] = [chain.length, chain.head.hex()]
        atomic_write(self.path, json.dumps(marks, sort_keys=True).encode() + b"\n")

    def raise_to(self, keyring: Keyring, desk_id: str, root: bytes) -> None:
        """Remember the keyring's chain (just extended by this instance) as the longest seen."""
        self.check(load_chain(keyring, desk_id, root), keyring.certificates(desk_id))

    def _read(self) -> dict[str, list[object]]:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise TrustError(f"{self.path.name} is unreadable") from exc
        if not isinstance(data, dict):
            raise TrustError(f"{self.path.name} is unreadable")
        return data


def high_water(instance_path: Path) -> HighWater:
    """Return the instance's record of the longest chain it has seen."""
    return HighWater(instance_path / "chain-heads.json")
