"""A real RFC 3161 time-stamping authority on 127.0.0.1: OpenSSL's `ts -reply` behind HTTP."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

_CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ tsa_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {dir}/serial
signer_cert = {dir}/tsa.crt
certs = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl(*args: str, cwd: Path) -> None:
    """Run openssl, failing the test with its output if it fails."""
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)  # noqa: S603 S607


@dataclass
class LocalTSA:
    """The authority's folder (ca.crt, tsa.crt) and the address it answers on."""

    folder: Path
    url: str

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def cert(self) -> Path:
        return self.folder / "tsa.crt"


def make_authority(folder: Path, name: str = "Test TSA") -> None:
    """Make a CA and a time-stamping certificate it issues, with OpenSSL."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa.cnf").write_text(_CONFIG.format(dir=folder))
    (folder / "serial").write_text("01\n")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", f"/CN={name} CA", "-config", "tsa.cnf", "-extensions", "ca_ext",
            cwd=folder)
    openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}",
            "-config", "tsa.cnf", cwd=folder)
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "tsa.cnf",
            "-extensions", "tsa_ext", cwd=folder)


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Reply(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "query.tsq").write_bytes(query)
                openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "query.tsq",
                        "-out", "reply.tsr", cwd=folder)
                reply = (folder / "reply.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return Reply


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[LocalTSA]:
    """Serve a fresh authority on a free local port for one test."""
    folder = tmp_path / "tsa"
    make_authority(folder)
    server = HTTPServer(("127.0.0.1", 0), _handler(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalTSA(folder, f"http://127.0.0.1:{server.server_address[1]}/tsa")
    finally:
        server.shutdown()
        server.server_close()
