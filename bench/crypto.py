"""Benchmark the cryptographic core against `cryptography`'s own AES-GCM in the same run.

Run: `python bench/crypto.py` (or `make bench`); `--quick` for a smoke run.

Prints raw AES-256-GCM throughput on 64 KiB segments (the ceiling), the
streaming file cipher's encrypt and decrypt throughput and their ratio to
that ceiling (target >= 0.7), HPKE seal and open rates beside the raw HPKE
suite, hybrid Ed25519 + ML-DSA-65 sign and verify rates beside each raw
half, the chain check for a desk of 50 accounts and 20 epochs (target
< 20 ms), and the peak memory above the interpreter's baseline while
encrypting a 1 GiB stream (target < 64 MiB). The last line is the figures as
JSON. `--signing` runs only the signature and chain figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.crypto import (
    PrivateKey,
    StreamEncryptor,
    decrypt_stream,
    new_data_key,
    open_data_key,
    seal_data_key,
)
from intake.crypto.certs import (
    Certificate,
    account_certificate,
    epoch_certificate,
    root_certificate,
)
from intake.crypto.chain import verify_chain
from intake.crypto.signing import SigningPrivateKey, Use

MIB = 1024 * 1024
SEGMENT = 64 * 1024


class Sink(io.RawIOBase):
    """A seekable output that counts bytes and keeps only the header region."""

    def __init__(self) -> None:
        self.position = 0
        self.length = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.position += len(data)
        self.length = max(self.length, self.position)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset if whence == 0 else self.length + offset
        return self.position

    def tell(self) -> int:
        return self.position


def best_of(runs: int, work: Callable[[], None]) -> float:
    """Return the shortest wall time of `runs` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def raw_aesgcm(plaintext: bytes) -> tuple[float, float]:
    """MiB/s of bare AESGCM over the distinct 64 KiB segments of `plaintext`, in memory."""
    aead, nonce, view = AESGCM(new_data_key()), bytes(12), memoryview(plaintext)
    count = len(plaintext) // SEGMENT
    # One nonce under a throwaway key: this measures speed only, nothing is kept.
    sealed = b"".join(aead.encrypt(nonce, view[i * SEGMENT:(i + 1) * SEGMENT], None)
                      for i in range(count))
    sealed_view, step = memoryview(sealed), SEGMENT + 16

    def encrypt() -> None:
        for i in range(count):
            aead.encrypt(nonce, view[i * SEGMENT:(i + 1) * SEGMENT], None)

    def decrypt() -> None:
        for i in range(count):
            aead.decrypt(nonce, sealed_view[i * step:(i + 1) * step], None)

    size = len(plaintext) / MIB
    return size / best_of(3, encrypt), size / best_of(3, decrypt)


def stream_cipher(plaintext: bytes) -> tuple[float, float, float]:
    """MiB/s of the file cipher: encrypting 1 MiB writes, decrypting an in-memory file.

    Decryption is timed in one pass and in the default checked-first mode,
    which authenticates every segment before yielding any (two passes).
    """
    key, view = new_data_key(), memoryview(plaintext)

    def encrypt(out: io.RawIOBase | io.BytesIO) -> None:
        encryptor = StreamEncryptor(key, out, record_id="r", file_id="f")  # type: ignore[arg-type]
        for start in range(0, len(plaintext), MIB):
            encryptor.write(view[start:start + MIB])
        encryptor.close()

    enc = best_of(3, lambda: encrypt(Sink()))
    buffer = io.BytesIO()
    encrypt(buffer)
    ciphertext = buffer.getvalue()
    del buffer

    def decrypt(check_first: bool) -> None:
        for _ in decrypt_stream(key, io.BytesIO(ciphertext), record_id="r", file_id="f",
                                check_first=check_first):
            pass

    size = len(plaintext) / MIB
    return (size / enc, size / best_of(3, lambda: decrypt(False)),
            size / best_of(3, lambda: decrypt(True)))


def hpke_rates(count: int) -> dict[str, float]:
    """Operations per second of intake's sealing beside the raw HPKE suite."""
    epoch, data_key = PrivateKey.generate(), new_data_key()
    binding = {"desk_id": "main", "epoch_id": 1, "record_id": "r"}
    sealed = seal_data_key(data_key, epoch.public_key, **binding)  # type: ignore[arg-type]
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    raw = suite.encrypt(data_key, epoch.public_key._hpke, info=b"i")
    timings = {
        "seal": lambda: seal_data_key(data_key, epoch.public_key, **binding),  # type: ignore
        "open": lambda: open_data_key(sealed, epoch, **binding),  # type: ignore[arg-type]
        "raw_seal": lambda: suite.encrypt(data_key, epoch.public_key._hpke, info=b"i"),
        "raw_open": lambda: suite.decrypt(raw, epoch._hpke, info=b"i"),
    }
    return {name: count / best_of(3, lambda f=f: [f() for _ in range(count)])  # type: ignore
            for name, f in timings.items()}


def signing_rates(count: int) -> dict[str, float]:
    """Operations per second of hybrid signing beside raw Ed25519 and ML-DSA-65."""
    key, message = SigningPrivateKey.generate(), os.urandom(2048)
    signature = key.sign(message, Use.CERTIFICATE)
    ed, ml = ed25519.Ed25519PrivateKey.generate(), mldsa.MLDSA65PrivateKey.generate()
    ed_sig, ml_sig = ed.sign(message), ml.sign(message, b"c")
    ed_pub, ml_pub = ed.public_key(), ml.public_key()
    timings = {
        "hybrid_sign": lambda: key.sign(message, Use.CERTIFICATE),
        "hybrid_verify": lambda: key.public_key.verify(signature, message, Use.CERTIFICATE),
        "ed25519_sign": lambda: ed.sign(message),
        "ed25519_verify": lambda: ed_pub.verify(ed_sig, message),
        "mldsa65_sign": lambda: ml.sign(message, b"c"),
        "mldsa65_verify": lambda: ml_pub.verify(ml_sig, message, b"c"),
    }
    return {name: count / best_of(3, lambda f=f: [f() for _ in range(count)])  # type: ignore
            for name, f in timings.items()}


def desk_chain(accounts: int, epochs: int) -> tuple[bytes, list[bytes]]:
    """A desk's root, `accounts` vetted accounts and `epochs` epochs, as stored bytes."""
    admin, recovery = SigningPrivateKey.generate(), SigningPrivateKey.generate()
    hpke_key = PrivateKey.generate().public_key
    chain: list[Certificate] = [root_certificate("main", "admin", hpke_key, admin,
                                                 recovery.public_key, hpke_key)]
    for number in range(accounts):
        role = "admin" if number % 10 == 0 else "reviewer"
        chain.append(account_certificate(chain[-1], admin, f"u{number}", role, hpke_key,
                                         SigningPrivateKey.generate().public_key))
    for epoch in range(1, epochs + 1):
        chain.append(epoch_certificate(chain[-1], admin, epoch,
                                       PrivateKey.generate().public_key))
    return chain[0].digest, [c.to_bytes() for c in chain]


def chain_check_ms(accounts: int = 50, epochs: int = 20) -> float:
    """Milliseconds to check a desk's whole chain against its root (best of 5)."""
    root, blobs = desk_chain(accounts, epochs)
    return 1000 * best_of(5, lambda: verify_chain(root, "main", blobs) and None)


def print_signing(signing: dict[str, float], chain_ms: float) -> None:
    """Print the signature and chain figures."""
    for label, prefix in (("hybrid Ed25519+ML-DSA-65 (intake)", "hybrid"),
                          ("Ed25519 (raw cryptography)", "ed25519"),
                          ("ML-DSA-65 (raw cryptography)", "mldsa65")):
        print(f"{label:35}sign {signing[prefix + '_sign']:8.0f}/s  verify "
              f"{signing[prefix + '_verify']:8.0f}/s")
    print(f"chain check, 50 accounts 20 epochs {chain_ms:8.1f} ms  {verdict(chain_ms < 20)}")


def peak_memory_child(size: int) -> None:
    """In a child process: print baseline and peak RSS (KiB) around encrypting `size` bytes."""
    key, chunk = new_data_key(), os.urandom(MIB)
    encryptor = StreamEncryptor(key, Sink(), record_id="r", file_id="f")  # type: ignore
    encryptor.write(chunk)
    baseline = high_water_kib()
    for _ in range(size // MIB - 1):
        encryptor.write(chunk)
    encryptor.close()
    print(json.dumps({"baseline_kib": baseline, "peak_kib": high_water_kib()}))


def high_water_kib() -> int:
    """This process's own peak resident size (VmHWM; ru_maxrss can carry a parent's peak)."""
    with open("/proc/self/status") as status:
        lines = status.read().splitlines()
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory(size: int) -> float:
    """MiB of RSS growth while a fresh process encrypts `size` bytes."""
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(size)],
                         capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return (figures["peak_kib"] - figures["baseline_kib"]) / 1024


def verdict(ok: bool) -> str:
    return "PASS" if ok else "BELOW TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--size-mib", type=int, default=256, help="throughput data size")
    parser.add_argument("--signing", action="store_true", help="signature figures only")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        peak_memory_child(args.memory_child)
        return
    signing = signing_rates(20 if args.quick else 200)
    chain_ms = chain_check_ms()
    signing_figures = {**{f"{k}_per_s": v for k, v in signing.items()}, "chain_check_ms": chain_ms}
    if args.signing:
        print_signing(signing, chain_ms)
        print(json.dumps(signing_figures))
        return
    size = (16 if args.quick else args.size_mib) * MIB
    memory_size = (64 if args.quick else 1024) * MIB
    growth = peak_memory(memory_size)
    plaintext = os.urandom(size)
    raw_enc, raw_dec = raw_aesgcm(plaintext)
    enc, dec, checked = stream_cipher(plaintext)
    rates = hpke_rates(20 if args.quick else 300)
    print(f"raw AES-256-GCM, 64 KiB segments   encrypt {raw_enc:8.0f} MiB/s  decrypt "
          f"{raw_dec:8.0f} MiB/s   (ceiling)")
    print(f"stream cipher                      encrypt {enc:8.0f} MiB/s  ratio {enc / raw_enc:.2f}"
          f"  {verdict(enc / raw_enc >= 0.7)}")
    print(f"                                   decrypt {dec:8.0f} MiB/s  ratio {dec / raw_dec:.2f}"
          f"  {verdict(dec / raw_dec >= 0.7)}  (one pass)")
    print(f"                                   decrypt {checked:8.0f} MiB/s  ratio "
          f"{checked / raw_dec:.2f}  checked first (two passes; {2 * checked / raw_dec:.2f} of "
          f"the two-pass ceiling)")
    print(f"HPKE ML-KEM-768+X25519 (intake)    seal {rates['seal']:8.0f}/s  open "
          f"{rates['open']:8.0f}/s")
    print(f"HPKE suite (raw cryptography)      seal {rates['raw_seal']:8.0f}/s  open "
          f"{rates['raw_open']:8.0f}/s")
    print_signing(signing, chain_ms)
    print(f"peak memory encrypting {memory_size // MIB} MiB     {growth:8.1f} MiB above baseline  "
          f"{verdict(growth < 64)}")
    print(json.dumps({"raw_encrypt_mibs": raw_enc, "raw_decrypt_mibs": raw_dec,
                      "stream_encrypt_mibs": enc, "stream_decrypt_mibs": dec,
                      "encrypt_ratio": enc / raw_enc, "decrypt_ratio": dec / raw_dec,
                      "checked_decrypt_mibs": checked, "checked_decrypt_ratio": checked / raw_dec,
                      **{f"hpke_{k}_per_s": v for k, v in rates.items()},
                      **signing_figures,
                      "peak_memory_mib": growth, "memory_stream_mib": memory_size // MIB}))


if __name__ == "__main__":
    main()
