"""deploy/nginx-intake.conf: accepted by `nginx -t`, and run for real in front of intake serve.

nginx runs the shipped site with a test certificate on loopback ports (nginx_harness);
the requests below are what a family's or reviewer's browser sends through the mirror.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.web.security import HEADERS as APP_HEADERS
from tests.deploy import nginx_harness
from tests.deploy.nginx_harness import SITE, Nginx, free_port, nginx_t, site_for_test
from tests.live import LiveServer, initialise, start

# The app's security headers (intake/web/security.py), written out, and HSTS, which only
# the TLS mirror can send.
EXPECTED_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cache-Control": "no-store, max-age=0",
    "Pragma": "no-cache",
    "Strict-Transport-Security": "max-age=31536000",
}
GIB = 2**30
NGINX_PAGE = b"<center>nginx</center>"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server, `intake serve`, on a temporary instance."""
    root = tmp_path_factory.mktemp("app")
    server = start(root, initialise(root))
    yield server
    server.stop()


@pytest.fixture
def mirror(tmp_path: Path, app: LiveServer) -> Iterator[Nginx]:
    """The shipped site in front of the real server."""
    server = nginx_harness.start(tmp_path, app.port)
    yield server
    server.stop()


def connect(nginx: Nginx) -> http.client.HTTPSConnection:
    """Open a TLS connection to the mirror (its test certificate is self-signed)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", nginx.https_port, context=context,
                                       timeout=30)


def get(nginx: Nginx, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    """Send one request through the mirror; return the response and its body."""
    connection = connect(nginx)
    connection.request(method, path, headers={"Host": "intake.example.org", **(headers or {})})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def assert_security_headers(response: http.client.HTTPResponse) -> None:
    """Each security header is present exactly once, with the app's value."""
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get_all(name) == [value], name
    assert response.headers.get_all("Server") == ["nginx"]  # no version


def test_site_passes_nginx_t(tmp_path: Path) -> None:
    """nginx -t accepts the site inside a minimal nginx.conf (with a test certificate)."""
    done = nginx_t(tmp_path, site_for_test(SITE.read_text(), tmp_path))
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_the_nginx_t_check_refuses_a_broken_site(tmp_path: Path) -> None:
    """The same check fails when a directive loses its semicolon."""
    broken = SITE.read_text().replace("proxy_request_buffering off;", "proxy_request_buffering off")
    assert nginx_t(tmp_path, site_for_test(broken, tmp_path)).returncode != 0


def test_app_pages_through_the_mirror_carry_each_security_header_once(mirror: Nginx) -> None:
    """A page and a 404 from the app come through with each header once, not compressed."""
    for path, status in (("/", 200), ("/no-such-page", 404)):
        response, _ = get(mirror, path, {"Accept-Encoding": "gzip"})
        assert response.status == status
        assert_security_headers(response)
        # Compression beside secrets an attacker can reflect leaks them (BREACH).
        assert response.getheader("Content-Encoding") is None


def test_cookies_through_the_mirror_are_secure(mirror: Nginx) -> None:
    """The app, set up for the onion service, sends cookies without Secure; the mirror adds it."""
    response, _ = get(mirror, "/submit")
    cookies = response.headers.get_all("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "; Secure" in cookie, cookie
        assert "; HttpOnly" in cookie, cookie


def test_the_mirror_sets_the_same_headers_as_the_app() -> None:
    """The site's header set is the app's (intake/web/security.py), plus HSTS only."""
    assert {name: value for name, value in EXPECTED_HEADERS.items()
            if name != "Strict-Transport-Security"} == APP_HEADERS


def test_nginx_own_answers_carry_the_security_headers(tmp_path: Path, mirror: Nginx) -> None:
    """nginx's own 413 (over the 8 GiB ceiling) and 502 (app down) carry every header."""
    response, body = get(mirror, "/submit", {"Content-Length": str(8 * GIB + 1)}, "POST")
    assert (response.status, NGINX_PAGE in body) == (413, True)
    assert_security_headers(response)
    down = nginx_harness.start(tmp_path / "down", free_port())
    try:
        response, body = get(down, "/")
        assert (response.status, NGINX_PAGE in body) == (502, True)
        assert_security_headers(response)
    finally:
        down.stop()


def test_a_body_up_to_the_apps_ceiling_reaches_the_app(mirror: Nginx) -> None:
    """A body declared at 8 GiB, the app's ceiling, is refused by the app's page, not nginx's."""
    connection = connect(mirror)
    connection.putrequest("POST", "/submit", skip_host=True)
    connection.putheader("Host", "intake.example.org")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(8 * GIB))
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 413
    assert NGINX_PAGE not in body
    assert b'<html lang="fa"' in body


def test_plain_http_only_redirects(mirror: Nginx) -> None:
    """Port 80 answers every request with a redirect to https and passes nothing on."""
    connection = http.client.HTTPConnection("127.0.0.1", mirror.http_port, timeout=10)
    connection.request("POST", "/submit?x=1", body=b"testimony",
                       headers={"Host": "intake.example.org"})
    response = connection.getresponse()
    response.read()
    assert response.status == 301
    assert response.getheader("Location") == "https://intake.example.org/submit?x=1"
    assert response.getheader("Server") == "nginx"


class FakeApp:
    """An upstream that records when body bytes arrive, and can answer with a large body."""

    def __init__(self, response_bytes: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = 0
        self.response_bytes = response_bytes
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            self.received = len(data.split(b"\r\n\r\n", 1)[1])
            if self.response_bytes:
                head = (f"HTTP/1.1 200 OK\r\nContent-Length: {self.response_bytes}\r\n"
                        "Content-Type: application/octet-stream\r\n\r\n").encode()
                # The test reads a little, then leaves.
                with contextlib.suppress(OSError):
                    connection.sendall(head + b"r" * self.response_bytes)
            else:
                while chunk := connection.recv(65536):
                    self.received += len(chunk)
        self.done.set()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_uploads_stream_to_the_app_as_they_arrive(tmp_path: Path, framing: str) -> None:
    """Half of a 4 MiB upload reaches the app before the rest is sent; nginx spools nothing.

    A chunked body too: proxied over HTTP/1.0, nginx would buffer it whatever
    proxy_request_buffering says.
    """
    fake = FakeApp()
    nginx = nginx_harness.start(tmp_path, fake.port)
    try:
        connection = connect(nginx)
        connection.putrequest("POST", "/submit", skip_host=True)
        connection.putheader("Host", "intake.example.org")
        if framing == "chunked":
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            connection.send(b"".join(b"10000\r\n" + b"t" * 2**16 + b"\r\n" for _ in range(32)))
        else:
            connection.putheader("Content-Length", str(4 * 2**20))
            connection.endheaders()
            connection.send(b"t" * 2 * 2**20)
        deadline = time.monotonic() + 10
        while fake.received < 2**20 and time.monotonic() < deadline:
            time.sleep(0.05)
        spooled = [f for f in nginx.worker_open_files() if f.startswith(str(tmp_path))]
        assert fake.received >= 2**20
        assert [f for f in spooled if "client_body" in f] == []
        assert list((tmp_path / "client_body").rglob("*")) == []
        connection.close()
    finally:
        nginx.stop()
        fake.close()


def test_large_responses_are_not_spooled_to_disk(tmp_path: Path) -> None:
    """A 16 MiB download read slowly is never written to nginx's temporary files."""
    fake = FakeApp(response_bytes=16 * 2**20)
    nginx = nginx_harness.start(tmp_path, fake.port)
    try:
        connection = connect(nginx)
        connection.request("GET", "/review/1/file", headers={"Host": "intake.example.org"})
        response = connection.getresponse()
        response.read(65536)
        time.sleep(1)  # the app writes as fast as nginx takes it; the reader lags behind
        held = [f for f in nginx.worker_open_files() if str(tmp_path / "proxy") in f]
        assert held == []
        assert list((tmp_path / "proxy").rglob("*")) == []
        connection.close()
    finally:
        nginx.stop()
        fake.close()


def test_no_access_log_and_no_client_address_in_the_error_log(tmp_path: Path) -> None:
    """After a page, an app that is down and a malformed request, nginx logged no visitor."""
    nginx = nginx_harness.start(tmp_path, free_port())
    try:
        get(nginx, "/")  # 502: the error names the client, and must go nowhere
        with socket.create_connection(("127.0.0.1", nginx.http_port)) as raw:
            raw.sendall(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
            raw.recv(4096)
    finally:
        nginx.stop()
    access = tmp_path / "access.log"
    assert not access.exists() or access.read_text() == ""
    errors = (tmp_path / "error.log").read_text()
    assert "client:" not in errors
    assert "127.0.0.1" not in errors
