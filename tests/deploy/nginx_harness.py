"""Run deploy/nginx-intake.conf under a minimal nginx.conf, on loopback ports, as root or not."""

from __future__ import annotations

import datetime
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.deploy.conftest import DEPLOY, find_tool

SITE = DEPLOY / "nginx-intake.conf"
SHIPPED_CERT = "/etc/letsencrypt/live/intake.example.org/fullchain.pem"
SHIPPED_KEY = "/etc/letsencrypt/live/intake.example.org/privkey.pem"
# The http block of Debian's nginx.conf logs every request and compresses pages: the
# site's own lines must win over both.
WRAPPER = """
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    gzip on;
    gzip_types text/html text/plain;
    gzip_min_length 1;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {site};
}}
"""


@dataclass
class Nginx:
    """A running nginx serving the site on loopback, in front of `upstream_port`."""

    root: Path
    http_port: int
    https_port: int
    process: subprocess.Popen[bytes]

    def worker_open_files(self) -> list[str]:
        """List what nginx's processes hold open (a deleted temp file shows as '(deleted)')."""
        opened = []
        for pid in _children(self.process.pid) + [self.process.pid]:
            fds = Path(f"/proc/{pid}/fd")
            for fd in fds.iterdir() if fds.exists() else []:
                try:
                    opened.append(os.readlink(fd))
                except OSError:
                    continue
        return opened

    def stop(self) -> None:
        """Stop nginx and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for intake.example.org and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intake.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def site_for_test(site: str, folder: Path, upstream_port: int | None = None,
                  ports: tuple[int, int] | None = None) -> str:
    """Point the site at a test certificate and, to run it, at loopback test ports.

    Only what a test machine cannot have is changed: the certificate's path, the
    privileged ports 80 and 443 (and their IPv6 twins), and the app's port.
    """
    cert, key = make_certificate(folder)
    site = _replace_once(site, SHIPPED_CERT, str(cert))
    site = _replace_once(site, SHIPPED_KEY, str(key))
    if upstream_port is not None:
        site = _replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    if ports is not None:
        site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{ports[0]};")
        site = _replace_once(site, "listen 443 ssl;", f"listen 127.0.0.1:{ports[1]} ssl;")
        site = re.sub(r"\n\s*listen \[::\]:(80|443)( ssl)?;", "", site)
    return site


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write_config(folder: Path, site_text: str) -> Path:
    """Write the site and a minimal nginx.conf including it; return the latter."""
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    site = folder / "site.conf"
    site.write_text(site_text)
    # As root, nginx's workers would switch to nobody, who cannot enter pytest's folders.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(WRAPPER.format(user=user, root=folder, site=site))
    return conf


def nginx_t(folder: Path, site_text: str) -> subprocess.CompletedProcess[str]:
    """Run `nginx -t` on the site wrapped in a minimal nginx.conf."""
    conf = write_config(folder, site_text)
    # -e: before it reads the configuration, nginx opens its built-in log path.
    return subprocess.run([find_tool("nginx"), "-t", "-p", str(folder), "-c", str(conf),
                           "-e", str(folder / "error.log")],
                          capture_output=True, text=True, timeout=30)


def start(folder: Path, upstream_port: int) -> Nginx:
    """Serve the site on two free loopback ports in front of `upstream_port`."""
    folder.mkdir(parents=True, exist_ok=True)
    ports = (free_port(), free_port())
    conf = write_config(folder, site_for_test(SITE.read_text(), folder, upstream_port, ports))
    process = subprocess.Popen([find_tool("nginx"), "-p", str(folder), "-c", str(conf),
                                "-e", str(folder / "error.log"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "error.log").read_text())
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", ports[1])) == 0:
                return Nginx(folder, ports[0], ports[1], process)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("nginx did not start")
