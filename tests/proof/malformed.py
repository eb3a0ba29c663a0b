"""Malformed requests to every family route, made from a seed, sent over raw sockets.

Each case is the raw bytes of one HTTP request (head and body as sent, framing
errors included). `framing_cases` break the request itself: multipart
boundaries, chunked framing, lengths, truncation, header sizes; their bodies
carry a wrong CSRF token and a field no form has, so that even a body that
survives its damage is refused and nothing can be kept. `form_cases` are well-framed requests whose
content is hostile: invalid UTF-8, NUL bytes, thousands of parts. `image_cases`
are whole forms with damaged or unusual images (TIFFs in CMYK, LAB and YCbCr,
16-bit PNGs, damaged copies of each).
"""

from __future__ import annotations

import io
import random
import re
import socket
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

BOUNDARY = "----intake-proof-malformed"
# The family routes: the start page, the code pages, the testimony form, its receipt, the
# follow-up pages. GET routes get hostile heads and bodies too.
POST_ROUTES = ("/submit", "/submit/code", "/submit/form", "/submit/received", "/followup/",
               "/followup/add")
GET_ROUTES = ("/", "/submit", "/submit/done", "/followup")


@dataclass
class Case:
    """One malformed request: what it is, where it goes, and its raw bytes."""

    kind: str
    route: str
    data: bytes


@dataclass
class Answer:
    """What the server answered: its status (None if it closed without one) and page."""

    status: int | None
    head: bytes
    body: bytes
    seconds: float
    hung: bool = False


@dataclass
class Visitor:
    """A browser's session: its cookies, a CSRF token, a follow-up code that opens a case."""

    cookie: str
    token: str
    code: str


def send(port: int, data: bytes, timeout: float = 20.0) -> Answer:
    """Send raw bytes, close our side (the body ends there), and read the answer to the end.

    A server that sends nothing and keeps the connection open for `timeout` is hung.
    """
    began = time.monotonic()
    received = bytearray()
    hung = False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading everything: read its answer
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            hung = True
        except OSError:
            pass  # reset by the server after its answer; what arrived is read
    answer = bytes(received)
    while re.match(rb"HTTP/1\.[01] 1\d\d ", answer):  # an interim answer (100 Continue)
        answer = answer.partition(b"\r\n\r\n")[2]
    head, _, body = answer.partition(b"\r\n\r\n")
    status = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
    return Answer(int(status.group(1)) if status else None, head, body,
                  time.monotonic() - began, hung)


def request(method: str, route: str, headers: list[tuple[str, str]], body: bytes = b"",
            length: int | None = None, lang: str = "fa") -> bytes:
    """The raw bytes of a request; Content-Length is the body's unless `length` says otherwise
    or a header already frames the body."""
    framed = {name.lower() for name, _ in headers} & {"content-length", "transfer-encoding"}
    if not framed and (body or method == "POST"):
        headers = [*headers, ("Content-Length", str(len(body) if length is None else length))]
    head = f"{method} {route}?lang={lang} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    raw = head.encode() + b"".join(f"{n}: {v}\r\n".encode("utf-8", "surrogateescape")
                                   for n, v in headers)
    return raw + b"\r\n" + body


def part(name: bytes, value: bytes, filename: bytes | None = None,
         boundary: bytes = BOUNDARY.encode()) -> bytes:
    """One multipart part."""
    disposition = b'form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"\r\nContent-Type: application/octet-stream'
    return b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + \
        b"\r\n"


def form_fields(visitor: Visitor, route: str) -> list[tuple[bytes, bytes]]:
    """The fields a browser sends to a route, valid but for what a case breaks."""
    common = [(b"csrf_token", visitor.token.encode()), (b"form_nonce", b"n" * 32)]
    if route.startswith("/followup"):
        return [*common, (b"code", visitor.code.encode()), (b"addition", b"more")]
    # A testimony goes without a code (the visitor's opens a stored case); the code pages
    # carry one.
    code = b"" if route == "/submit" else visitor.code.encode()
    if route in ("/submit/code", "/submit/form", "/submit/received"):
        return [*common, (b"code", code), (b"written_down", b"y")]
    return [*common, (b"code", code), (b"consent_internal", b"y"),
            (b"name", "نام".encode()), (b"relationship", b"mother"),
            (b"testimony", "شهادت".encode())]


def multipart_body(fields: list[tuple[bytes, bytes]], files: list[tuple[bytes, bytes]],
                   smuggled: bool = True, field: bytes = b"attachments") -> bytes:
    """A multipart body; `smuggled` adds a field no form has, so that it is always refused."""
    parts = [part(name, value) for name, value in fields]
    if smuggled:
        parts.append(part(b"smuggled", b"x"))
    parts += [part(field, content, filename) for filename, content in files]
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


def chunked(body: bytes, rng: random.Random) -> bytes:
    """Encode a body in chunks of random sizes."""
    out, at = bytearray(), 0
    while at < len(body):
        size = min(rng.randint(1, 4096), len(body) - at)
        out += f"{size:x}\r\n".encode() + body[at:at + size] + b"\r\n"
        at += size
    return bytes(out) + b"0\r\n\r\n"


def _multipart_type(boundary: str = BOUNDARY) -> tuple[str, str]:
    return ("Content-Type", f"multipart/form-data; boundary={boundary}")


def _base(visitor: Visitor, route: str, rng: random.Random) -> tuple[list[tuple[str, str]], bytes]:
    """A refused-but-parseable multipart request to a route, with a file.

    Its CSRF token is wrong: damage that merges parts (a boundary line broken so that the
    smuggled field joins the one before it) still leaves a form that is refused outright,
    rather than one that comes back for a change with its files kept for the family.
    """
    files = [(b"evidence.bin", rng.randbytes(rng.randint(0, 200_000)))]
    fields = [(name, b"not-the-token" if name == b"csrf_token" else value)
              for name, value in form_fields(visitor, route)]
    return [("Cookie", visitor.cookie), _multipart_type()], multipart_body(fields, files)


# Each breaks one thing about a request: (kind, make(visitor, route, rng) -> raw bytes).
Breaker = Callable[[Visitor, str, random.Random], bytes]


def _truncated(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    return request("POST", route, headers, body[:rng.randrange(len(body))], length=len(body))


def _length_short(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    return request("POST", route, headers, body, length=rng.randrange(len(body)))


def _length_odd(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    value = rng.choice(["-1", "abc", "1e3", " 12", "0x10", "99999999999999999999", "",
                        f"{len(body)}, {len(body)}", "+5"])
    return request("POST", route, [*headers, ("Content-Length", value)], body)


def _two_lengths(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    return request("POST", route, [*headers, ("Content-Length", str(len(body))),
                                   ("Content-Length", str(rng.randrange(len(body))))], body)


def _flipped(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    damaged = bytearray(body)
    # Damage near part boundaries, where the parser decides what a part is.
    starts = [m.start() for m in re.finditer(re.escape(BOUNDARY.encode()), body)]
    for _ in range(rng.randint(1, 8)):
        at = min(len(damaged) - 1, rng.choice(starts) + rng.randint(-4, len(BOUNDARY) + 60))
        damaged[at] = rng.randrange(256)
    return request("POST", route, headers, bytes(damaged))


def _boundary_header(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    kind = rng.choice([
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary",
        f"multipart/form-data; boundary={'b' * 300}", f'multipart/form-data; boundary="{BOUNDARY}',
        "multipart/form-data; boundary=other", "multipart/mixed; boundary=" + BOUNDARY,
        f"multipart/form-data; boundary={BOUNDARY}; boundary=x", "text/plain",
        "application/x-www-form-urlencoded", f"multipart/form-data; boundary={BOUNDARY[:-3]}"])
    return request("POST", route, [headers[0], ("Content-Type", kind)], body)


def _no_closing_boundary(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    return request("POST", route, headers, body[:body.rfind(b"--" + BOUNDARY.encode())])


def _part_headers(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    junk = rng.choice([b"Content-Disposition: form-data\r\n", b"X" * 70_000 + b"\r\n",
                       b"Content-Disposition: form-data; name=\"a\r\n", b"no colon here\r\n",
                       b"Content-Disposition: form-data; name*=UTF-8''%ff%fe\r\n",
                       b"Content-Type: text/plain; charset=\x00\r\n"])
    marker = b"--" + BOUNDARY.encode() + b"\r\n"
    return request("POST", route, headers, body.replace(marker, marker + junk, 1))


def _chunked(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    framed = chunked(body, rng)
    damage = rng.choice(["size", "negative", "extension", "terminator", "trailer", "huge",
                         "truncated", "empty", "space", "no-last"])
    first = framed.index(b"\r\n")
    if damage == "size":
        framed = b"zz" + framed[first:]
    elif damage == "negative":
        framed = b"-5" + framed[first:]
    elif damage == "extension":
        framed = framed[:first] + b";ext=\x00bad" + framed[first:]
    elif damage == "terminator":
        at = framed.index(b"\r\n", first + 2 + int(framed[:first], 16))
        framed = framed[:at] + b"XX" + framed[at + 2:]
    elif damage == "trailer":
        framed = framed[:-2] + b"Bad Trailer\r\n\r\n"
    elif damage == "huge":
        framed = b"f" * rng.randint(17, 40) + framed[first:]
    elif damage == "truncated":
        framed = framed[:rng.randrange(len(framed))]
    elif damage == "empty":
        framed = framed[first:]
    elif damage == "space":
        framed = framed[:first] + b" " + framed[first:]
    else:
        framed = framed[:-5]
    return request("POST", route, [*headers, ("Transfer-Encoding", "chunked")], framed)


def _transfer_coding(v: Visitor, route: str, rng: random.Random) -> bytes:
    headers, body = _base(v, route, rng)
    coding = rng.choice(["gzip, chunked", "chunked, chunked", "identity", "chunked;x=1",
                         "x-unknown", "CHUNKED", "chunked\x0b"])
    extra = [("Content-Length", str(len(body)))] if rng.random() < 0.3 else []
    return request("POST", route, [*headers, ("Transfer-Encoding", coding), *extra],
                   chunked(body, rng))


def _huge_headers(v: Visitor, route: str, rng: random.Random) -> bytes:
    size = rng.choice([9_000, 70_000, 300_000])
    kind = rng.choice(["one", "many", "cookie", "line"])
    if kind == "line":
        return f"GET {route}?q={'a' * size} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    if kind == "many":
        headers = [(f"X-H{n}", "v" * 40) for n in range(size // 50)]
    elif kind == "cookie":
        headers = [("Cookie", v.cookie + "; " + "c" * size)]
    else:
        headers = [("X-Long", "v" * size)]
    method = rng.choice(["GET", "POST"])
    return request(method, route, [("Cookie", v.cookie), *headers], b"" if method == "GET" else
                   b"a=1")


def _bad_head(v: Visitor, route: str, rng: random.Random) -> bytes:
    return rng.choice([
        f"POST {route} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab\x00cd".encode(),
        f"POST {route}\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET {route} HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n".encode(),
        f"GET {route} HTTP/1.1\r\nHost: x\r\nX-Bad\xff: \xfe\r\n\r\n".encode("latin-1"),
        f"GET {route} HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n".encode(),
        f"GET {route} HTTP/9.9\r\nHost: x\r\n\r\n".encode(),
        f"BREW {route} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET {route}?lang=%ff%fe%00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET {route}/%ff/%00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET {route} HTTP/1.1\r\nHost: x\r\nCookie: session=\xff\xfe\x00\r\n\r\n"
        .encode("latin-1"),
        f"GET {route} HTTP/1.1\r\nHost: x\r\nAccept-Language: \xff\xfe;q=x\r\n\r\n"
        .encode("latin-1"),
        b"\r\n\r\n\r\n",
        f"POST {route} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10"
        "\r\n\r\n".encode(),
        f"POST {route} HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx"
        .encode(),
    ])


def _head_cut_short(v: Visitor, route: str, rng: random.Random) -> bytes:
    head = request("POST", route, [("Cookie", v.cookie), _multipart_type()], b"x" * 10)
    return head[:rng.randrange(len(head) - 12)]


# A client that closes before its head is complete sent no request: closing is the answer.
UNANSWERED = {"head cut short"}
FRAMING: dict[str, Breaker] = {
    "head cut short": _head_cut_short,
    "truncated body": _truncated, "Content-Length shorter than the body": _length_short,
    "odd Content-Length": _length_odd, "two Content-Lengths": _two_lengths,
    "damaged multipart boundaries": _flipped, "broken boundary parameter": _boundary_header,
    "no closing boundary": _no_closing_boundary, "malformed part headers": _part_headers,
    "malformed chunked body": _chunked, "odd Transfer-Encoding": _transfer_coding,
    "huge headers": _huge_headers, "malformed request head": _bad_head,
}


def framing_cases(visitor: Visitor, rng: random.Random, count: int) -> Iterator[Case]:
    """Requests whose framing is broken, spread over every family route."""
    kinds = sorted(FRAMING)
    for number in range(count):
        kind = kinds[number % len(kinds)]
        route = (POST_ROUTES + GET_ROUTES)[number // len(kinds) % (len(POST_ROUTES)
                                                                     + len(GET_ROUTES))]
        yield Case(kind, route, FRAMING[kind](visitor, route, rng))


def _invalid_utf8(v: Visitor, route: str, rng: random.Random) -> bytes:
    fields = form_fields(v, route)
    at = rng.randrange(len(fields))
    bad = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    target = rng.choice(["value", "name", "filename"])
    files = [(b"a.txt", b"data")]
    if target == "value":
        fields[at] = (fields[at][0], fields[at][1] + bad)
    elif target == "name":
        fields[at] = (fields[at][0] + bad, fields[at][1])
    else:
        files = [(b"evid" + bad + b".txt", b"data")]
    body = multipart_body(fields, files, smuggled=False)
    return request("POST", route, [("Cookie", v.cookie), _multipart_type()], body)


def _nul_bytes(v: Visitor, route: str, rng: random.Random) -> bytes:
    fields = form_fields(v, route)
    at = rng.randrange(len(fields))
    fields[at] = (fields[at][0], fields[at][1][:1] + b"\x00" * rng.randint(1, 5) +
                  fields[at][1][1:])
    filename = rng.choice([b"a\x00.txt", b"a.txt", b"\x00"])
    body = multipart_body(fields, [(filename, b"da\x00ta")], smuggled=False)
    return request("POST", route, [("Cookie", v.cookie), _multipart_type()], body)


def _many_parts(v: Visitor, route: str, rng: random.Random) -> bytes:
    count = rng.choice([1_001, 3_000, 10_000])
    fields = form_fields(v, route)
    if rng.random() < 0.5:
        files = [(f"f{n}.txt".encode(), b"x") for n in range(count)]
        body = multipart_body(fields, files, smuggled=False)
    else:
        body = multipart_body(fields + [(b"testimony", b"x")] * count, [], smuggled=False)
    return request("POST", route, [("Cookie", v.cookie), _multipart_type()], body)


def _urlencoded(v: Visitor, route: str, rng: random.Random) -> bytes:
    body = rng.choice([b"a=%ff%fe&csrf_token=" + v.token.encode(), b"%%%%=&&&==",
                       b"name=\x00\x00&testimony=\xff", b"&" * 20_000,
                       b"=" * 5_000 + b"x", b"a=1&" * 5_000])
    return request("POST", route, [("Cookie", v.cookie),
                                   ("Content-Type", "application/x-www-form-urlencoded")], body)


FORM: dict[str, Breaker] = {
    "invalid UTF-8": _invalid_utf8, "NUL bytes": _nul_bytes, "thousands of parts": _many_parts,
    "hostile urlencoded body": _urlencoded,
}


def form_cases(visitor: Visitor, rng: random.Random, count: int) -> Iterator[Case]:
    """Well-framed requests with hostile content, spread over the POST routes."""
    kinds = sorted(FORM)
    for number in range(count):
        kind = kinds[number % len(kinds)]
        route = POST_ROUTES[number // len(kinds) % len(POST_ROUTES)]
        yield Case(kind, route, FORM[kind](visitor, route, rng))


def png16(rng: random.Random, colour_type: int) -> bytes:
    """A 16-bit PNG (grey, RGB, grey+alpha or RGBA), written chunk by chunk."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    width, height = rng.randint(1, 64), rng.randint(1, 64)
    rows = b"".join(b"\0" + rng.randbytes(width * channels * 2) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def tiff(rng: random.Random, mode: str) -> bytes:
    """A TIFF in an unusual mode, with a random compression."""
    size = (rng.randint(1, 64), rng.randint(1, 64))
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    compression = rng.choice([None, "tiff_lzw", "tiff_adobe_deflate", "packbits"]
                             + (["jpeg"] if mode != "CMYK" else []))
    image.save(out, "TIFF", **({"compression": compression} if compression else {}))
    return out.getvalue()


def damaged(data: bytes, rng: random.Random) -> bytes:
    """Cut an image short or flip some of its bytes (its signature kept, so it looks like one)."""
    if rng.random() < 0.4:
        return data[:rng.randint(8, max(8, len(data) - 1))]
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(8, len(out))
        out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def image(rng: random.Random) -> tuple[str, bytes]:
    """An unusual image, whole or damaged: a CMYK, LAB or YCbCr TIFF, or a 16-bit PNG."""
    if rng.random() < 0.5:
        mode = rng.choice(["CMYK", "LAB", "YCbCr"])
        name, data = f"scan-{mode.lower()}.tif", tiff(rng, mode)
    else:
        name, data = "photo16.png", png16(rng, rng.choice([0, 2, 4, 6]))
    return (name, damaged(data, rng)) if rng.random() < 0.7 else (name, data)


def image_request(visitor: Visitor, route: str, nonce: str, rng: random.Random) -> bytes:
    """A whole, valid form to `route` carrying one unusual or damaged image."""
    name, data = image(rng)
    fields = [(n, nonce.encode() if n == b"form_nonce" else value)
              for n, value in form_fields(visitor, route)]
    field = b"photo" if route == "/submit" and rng.random() < 0.5 else b"attachments"
    body = multipart_body(fields, [(name.encode(), data)], smuggled=False, field=field)
    return request("POST", route, [("Cookie", visitor.cookie), _multipart_type()], body)
