"""Upload throughput: one large file through the real server, beside the ceilings it sits under.

Run: `.venv/bin/python bench/upload.py [--mib 1024] [--ceiling-mib 256]`.

In one run, on one machine:

1. **Server**: one file of N MiB (default 1 GiB) posted through the testimony
   form to `intake serve` (gunicorn, two workers), streamed from the client
   in 1 MiB writes over loopback; MiB/s from the first byte sent to the
   "received" page (the file encrypted and fsynced into the store, its record
   committed), and the server's peak resident memory beside its baseline
   (the largest VmRSS of any of its processes, sampled every 50 ms).
2. **Werkzeug ceiling**: Werkzeug's multipart parser over the same request
   body held in memory (`--ceiling-mib`), each file part into a sink that
   keeps nothing: what parsing alone costs. Then the same parse into the
   app's own encrypting sink (SHA-256, STREAM encryption, the blob written
   to a temporary store): the server's work without network and gunicorn.
3. **AES-GCM ceiling**: `cryptography`'s AESGCM over the same bytes in the
   stream's 64 KiB segments, and `StreamEncryptor` (with padding) into a sink
   that keeps nothing: what encryption alone costs.

Target: the server at least half the Werkzeug ceiling, its memory flat
(peak - baseline < 100 MiB). The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from submit import MIB, big_upload, serve  # noqa: E402
from werkzeug.formparser import parse_form_data  # noqa: E402

from intake.crypto import StreamEncryptor, new_data_key  # noqa: E402
from intake.crypto.stream import SEGMENT_SIZE  # noqa: E402

BOUNDARY = "----intake-bench-upload"


class Discard(io.RawIOBase):
    """A writable, seekable sink that keeps nothing but its position."""

    def __init__(self) -> None:
        self.position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: object) -> int:  # type: ignore[override]
        size = len(memoryview(data))  # type: ignore[arg-type]
        self.position += size
        return size

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset if whence == 0 else self.position + offset
        return self.position

    def tell(self) -> int:
        return self.position


def body(size: int) -> bytes:
    """A multipart body with the form's fields and one file of `size` random bytes."""
    head = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in {"consent_internal": "y", "name": "x",
                                "relationship": "mother", "testimony": "x"}.items())
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
             'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
    chunk = os.urandom(MIB)
    return head.encode() + chunk * (size // MIB) + f"\r\n--{BOUNDARY}--\r\n".encode()


def best_of(runs: int, work: object) -> float:
    """The shortest of `runs` timings of `work()`, in seconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def werkzeug_ceiling(data: bytes) -> float:
    """MiB/s of Werkzeug's multipart parser over `data` in memory, file parts discarded."""
    def parse() -> None:
        environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(data)),
                   "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
                   "wsgi.input": io.BytesIO(data)}
        _, _, files = parse_form_data(environ, stream_factory=lambda *a, **k: Discard(),
                                      max_form_memory_size=None)
        assert "attachments" in files

    return len(data) / MIB / best_of(3, parse)


def app_ceiling(data: bytes) -> float:
    """MiB/s of Werkzeug's parser over `data` in memory into the app's own encrypting sink
    (SHA-256, STREAM encryption, the blob written to a temporary store): the server's work
    without the network and gunicorn."""
    from intake.store.blobs import Store
    from intake.web.request import UploadBatch

    with tempfile.TemporaryDirectory() as scratch:
        def parse() -> None:
            batch = UploadBatch(Store(scratch), len(data), 20)
            environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(data)),
                       "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
                       "wsgi.input": io.BytesIO(data)}
            _, _, files = parse_form_data(environ, max_form_memory_size=None,
                                          stream_factory=lambda *a, **k: batch.new_upload())
            upload = batch.uploads[0]
            assert upload.size > 0
            assert upload.sha256.hexdigest()
            batch.discard()

        return len(data) / MIB / best_of(3, parse)


def aes_gcm_ceilings(data: bytes) -> tuple[float, float]:
    """MiB/s of bare AES-GCM over 64 KiB segments of `data`, and of StreamEncryptor."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, view = AESGCM(os.urandom(32)), memoryview(data)

    def bare() -> None:
        for counter, at in enumerate(range(0, len(view), SEGMENT_SIZE)):
            aead.encrypt(counter.to_bytes(12, "big"), view[at:at + SEGMENT_SIZE], None)

    def stream() -> None:
        encryptor = StreamEncryptor(new_data_key(), Discard(),  # type: ignore[arg-type]
                                    record_id="r", file_id="f")
        for at in range(0, len(view), MIB):
            encryptor.write(view[at:at + MIB])
        encryptor.close()

    mib = len(data) / MIB
    return mib / best_of(3, bare), mib / best_of(3, stream)


def main() -> None:
    """Measure the server, then the ceilings over the same kind of body."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="the upload's size")
    parser.add_argument("--ceiling-mib", type=int, default=256,
                        help="the size of the in-memory body the ceilings run over")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        server = serve(Path(scratch))
        try:
            upload = big_upload(server, args.mib * MIB)
        finally:
            server.stop()
    data = body(args.ceiling_mib * MIB)
    parse = werkzeug_ceiling(data)
    app = app_ceiling(data)
    bare, stream = aes_gcm_ceilings(data)
    figures = {"upload_mib": args.mib, "server_mib_per_s": upload["mib_per_s"],
               "status": upload["status"], "baseline_rss_mib": upload["baseline_rss_mib"],
               "peak_rss_mib": upload["peak_rss_mib"], "werkzeug_mib_per_s": parse,
               "app_from_memory_mib_per_s": app, "aes_gcm_mib_per_s": bare,
               "stream_encryptor_mib_per_s": stream}
    print(f"server: {args.mib} MiB upload at {upload['mib_per_s']:.0f} MiB/s (status "
          f"{upload['status']}), peak RSS {upload['peak_rss_mib']:.0f} MiB (baseline "
          f"{upload['baseline_rss_mib']:.0f} MiB)")
    print(f"werkzeug multipart from memory: {parse:.0f} MiB/s; server at "
          f"{upload['mib_per_s'] / parse:.2f} of it (target >= 0.5)")
    print(f"werkzeug from memory into the app's encrypting sink (SHA-256, STREAM, blob file): "
          f"{app:.0f} MiB/s")
    print(f"AES-GCM over 64 KiB segments: {bare:.0f} MiB/s; StreamEncryptor: {stream:.0f} MiB/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
