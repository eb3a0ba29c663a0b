"""The production server: gunicorn with threaded workers that write nothing about visitors.

Three things here differ from gunicorn's defaults, each for the submitter's sake:

- `PrivateLogger` writes no access log, no time of day, no exception message, and no
  client address or record id, for gunicorn's own lines and the app's alike.
- `PrivateThreadWorker` answers the requests gunicorn refuses itself (a malformed
  request line, oversized headers, bad HTTP) with the app's error page and headers,
  and logs only the kind of refusal, never `ip=...` as gunicorn does.
- Many threads per worker: a family on Tor may take an hour to upload, and a thread
  waiting on its socket costs little, while a busy pool makes every other family wait.
"""

from __future__ import annotations

import http
import logging
import re
import socket
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from flask import Flask
from gunicorn import glogging, util
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.http.body import LengthReader
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import BadRequest

# Concurrent requests per worker. Each slow upload holds one thread for as long as it
# takes; a waiting thread costs a small stack and no CPU.
THREADS = 64
# Connections a worker holds at once, waiting ones and kept-alive ones included.
WORKER_CONNECTIONS = 1000
# A connection that sends or reads nothing for this long is closed, its thread freed.
# Tor circuits stall for seconds, not minutes.
IDLE_SECONDS = 120.0
# How much of a request body is asked of gunicorn at once (see _GuardedBody).
READ_SIZE = 1024 * 1024

# What a log line may not carry: client addresses, times of day, record ids.
_SCRUBBED = [
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "[address]"),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b"), "[time]"),
    (re.compile(r"(?<![\w.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w.])"), "[address]"),
    (re.compile(r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                r"[0-9A-Fa-f]{12}\b"), "[id]"),
    (re.compile(r"[0-9A-Fa-f]{16,}"), "[id]"),
]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def scrub(line: str) -> str:
    """Replace anything that looks like an address, a time of day or a record id."""
    for pattern, replacement in _SCRUBBED:
        line = pattern.sub(replacement, line)
    return line


def describe_exception(exc_info: _ExcInfo | tuple[None, None, None]) -> str:
    """Name an exception and where it was raised, never its message (it may quote a family)."""
    kind, _value, tb = exc_info
    if kind is None:
        return ""
    frames = traceback.extract_tb(tb)[-6:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames)
    return f"{kind.__name__} at {where}" if where else kind.__name__


class PrivateFormatter(logging.Formatter):
    """Format a line with no time, no exception message, no address and no id."""

    def format(self, record: logging.LogRecord) -> str:
        """Write the level, the logger and the message; an exception as its type and frames."""
        line = f"[{record.levelname}] {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += f" ({describe_exception(record.exc_info)})"
        return scrub(line)


def log_privately(level: int) -> None:
    """Send every logger (the app's, libraries', warnings) through the private format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrivateFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # gunicorn's debug level is for gunicorn: libraries' debug lines can dump what they handle.
    root.setLevel(max(level, logging.INFO))
    logging.captureWarnings(True)
    # A background thread's uncaught exception is otherwise printed whole, message and all;
    # so is one raised in __del__ or a generator's close (sys.unraisablehook).
    threading.excepthook = _log_thread_exception
    sys.unraisablehook = _log_unraisable


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """Log an exception no thread caught as its type and frames."""
    if args.exc_type is not None and args.exc_value is not None:
        logging.getLogger("intake").error(
            "uncaught in a thread", exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def _log_unraisable(unraisable: Any) -> None:
    """Log an exception Python could not raise (in __del__, a finaliser) as its type and frames."""
    if unraisable.exc_type is not None and unraisable.exc_value is not None:
        logging.getLogger("intake").error(
            "raised while collected", exc_info=(unraisable.exc_type, unraisable.exc_value,
                                                unraisable.exc_traceback))


class PrivateLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, with no access log and the private format on every line."""

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then give each the private format."""
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(PrivateFormatter())
        for handler in list(self.access_log.handlers):
            self.access_log.removeHandler(handler)
        log_privately(self.loglevel)

    def access(self, *args: Any, **kwargs: Any) -> None:
        """Write nothing: an access log records who came, when, and from where."""

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """Log an exception; a connection closed for idling is routine, not an error."""
        if isinstance(sys.exc_info()[1], TimeoutError):
            self.info("closed a connection that sent nothing for too long")
        else:
            super().exception(msg, *args, **kwargs)


class _IdleTimeoutSocket(socket.socket):
    """A client socket whose blocking mode is a timeout: a stalled client frees its thread."""

    __slots__ = ()
    idle_seconds = IDLE_SECONDS

    def setblocking(self, flag: bool) -> None:
        """Block for at most the idle timeout when asked to block."""
        if flag:
            self.settimeout(self.idle_seconds)
        else:
            super().setblocking(False)


# gunicorn's own refusals, most specific first; anything else a client sends wrong is 400.
_REFUSALS: list[tuple[type[Exception], int]] = [
    (http_errors.LimitRequestLine, 414),
    (http_errors.LimitRequestHeaders, 431),
    (http_errors.ExpectationFailed, 417),
    (http_errors.UnsupportedTransferCoding, 501),
    (http_errors.ConfigurationProblem, 500),
    (http_errors.InvalidResponseHeader, 500),
    (http_errors.InvalidResponseHeaderName, 500),
    (http_errors.ParseException, 400),
    (OSError, 400),
]


def refusal_status(exc: BaseException) -> int:
    """Return the status gunicorn's own refusal of `exc` gets; 500 when it is our fault."""
    for kind, status in _REFUSALS:
        if isinstance(exc, kind):
            return status
    return 500


class BrokenBody(BadRequest):
    """A request body whose framing is broken (a bad chunk size, a missing terminator)."""


class _GuardedBody:
    """A request body read in large pieces, whose framing errors are the client's.

    gunicorn checks chunked framing as the app reads the body and raises its own parse
    errors, which the app would otherwise answer as its own fault (a 500): here they are a
    400, and the connection is closed (once the framing is broken, nothing more on it can be
    trusted to be a request).

    Werkzeug reads a body 64 KiB at a time, and gunicorn answers each read by copying what
    it read ahead into new buffers, several times: a large upload spent most of its time
    copying. A body of known length (every browser's upload) is read here straight from the
    socket into one reused buffer of READ_SIZE, gunicorn's own count of what is left kept
    exact so that the connection stays in step; a chunked body is asked of gunicorn
    READ_SIZE at a time. Werkzeug's reads are served from that buffer.
    """

    def __init__(self, request: Any) -> None:
        self._request = request
        self._body = request.body
        reader = getattr(self._body, "reader", None)
        unreader = getattr(request, "unreader", None)
        # gunicorn's LengthReader keeps the body's remaining length; its unreader, any bytes
        # read past the headers. Anything else (chunked, unframed) goes through gunicorn.
        self._reader = reader if (isinstance(reader, LengthReader)
                                  and isinstance(unreader, SocketUnreader)
                                  and not self._body.buf.tell()) else None
        self._scratch = bytearray()
        self._buffer = memoryview(b"")
        self._at = 0

    def close_after_answer(self) -> None:
        """Close the connection after this answer: the body was left unread, so nothing
        after it on the connection can be told from the rest of it."""
        self._request.must_close = True

    def _guarded(self, method: Any, size: int | None) -> Any:
        try:
            return method(size)
        except (http_errors.ParseException, http_errors.NoMoreData) as exc:
            self._request.must_close = True
            raise BrokenBody(type(exc).__name__) from None

    def _fill(self) -> bool:
        """Read the next piece of the body into the buffer; say whether there was one."""
        if self._reader is None:
            piece = cast(bytes, self._guarded(self._body.read, READ_SIZE))
            self._buffer, self._at = memoryview(piece), 0
            return bool(piece)
        reader = self._reader
        if reader.length <= 0:
            return False
        held = reader.unreader.take_buffered()
        if held:  # read past the headers already; anything past this body goes back
            if len(held) > reader.length:
                reader.unreader.unread(held[reader.length:])
            self._buffer, self._at = memoryview(held)[:reader.length], 0
        else:
            if not self._scratch:  # a small form gets a small buffer
                self._scratch = bytearray(min(reader.length, READ_SIZE))
            try:
                count = reader.unreader.sock.recv_into(self._scratch,
                                                       min(reader.length, len(self._scratch)))
            except OSError:  # gone, or silent past the idle timeout: never in step again
                self._request.must_close = True
                raise
            self._buffer, self._at = memoryview(self._scratch)[:count], 0
        reader.length -= len(self._buffer)
        return bool(self._buffer)

    def readinto(self, target: bytearray | memoryview) -> int:
        """Read up to len(target) bytes of the body into `target`; 0 only at its end."""
        if self._at >= len(self._buffer) and not self._fill():
            return 0
        count = min(len(target), len(self._buffer) - self._at)
        memoryview(target).cast("B")[:count] = self._buffer[self._at:self._at + count]
        self._at += count
        return count

    def read(self, size: int | None = None) -> bytes:
        """Read up to `size` bytes of the body (all of it if None); b"" only at its end."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(READ_SIZE), b""))
        if self._at >= len(self._buffer) and not self._fill():
            return b""
        piece = self._buffer[self._at:self._at + size].tobytes()
        self._at += len(piece)
        return piece

    def readline(self, size: int | None = None) -> bytes:
        """Read one line of the body, or up to `size` bytes of it."""
        limit = sys.maxsize if size is None or size < 0 else size
        line = bytearray()
        while len(line) < limit and not line.endswith(b"\n"):
            if self._at >= len(self._buffer) and not self._fill():
                break
            rest = self._buffer[self._at:self._at + limit - len(line)]
            end = rest.tobytes().find(b"\n")
            piece = rest[:end + 1] if end >= 0 else rest
            line += piece
            self._at += len(piece)
        return bytes(line)

    def readlines(self, size: int | None = None) -> list[bytes]:
        """Read the body's lines."""
        return list(self)

    def __iter__(self) -> _GuardedBody:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class PrivateThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread that accepts only with a thread free, and whose refusals log no address.

    gthread accepts every connection and queues it for its thread pool, so a worker
    whose threads all wait on slow uploads still takes new visitors and leaves them
    queued while another worker has threads free. Here a worker stops accepting
    while every thread is busy; the connection waits in the kernel's backlog for
    the first worker that can serve it.
    """

    _pages: dict[int, bytes]
    _in_flight = 0

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection to a thread; stop accepting once every thread has one."""
        if type(conn.sock) is socket.socket:
            # Same memory layout, no new slots: the socket object is kept, not copied.
            conn.sock.__class__ = _IdleTimeoutSocket
        self._in_flight += 1
        super().enqueue_req(conn)
        if self._in_flight >= self.cfg.threads:
            self.set_accept_enabled(False)

    def handle_request(self, req: Any, conn: Any) -> bool:
        """Serve one request; a body with broken framing is a 400 that closes the connection."""
        req.body = _GuardedBody(req)
        return cast(bool, super().handle_request(req, conn))

    def finish_request(self, conn: Any, fs: Any) -> None:
        """Count a thread free again (runs on the main thread, as enqueue_req does)."""
        self._in_flight -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Accept new connections only while a thread is free."""
        super().set_accept_enabled(enabled and self._in_flight < self.cfg.threads)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer a request gunicorn could not hand to the app; log only what kind it was."""
        status = refusal_status(exc)
        if status >= 500:
            self.log.error("error handling a request: %s",
                           describe_exception((type(exc), exc, exc.__traceback__)))
        else:
            self.log.info("refused a malformed request: %s", type(exc).__name__)
        try:
            util.write_nonblock(client, self.error_response(status))
        except Exception:  # the client may be gone; nothing else to do
            self.log.debug("could not send an error page")

    def error_response(self, status: int) -> bytes:
        """Return a complete HTTP response with the app's error page and headers."""
        if not hasattr(self, "_pages"):
            self._pages = {}
        if status not in self._pages:
            self._pages[status] = _http_response(status, _error_page(self.wsgi, status))
        return self._pages[status]


def _error_page(app: Any, status: int) -> bytes:
    """Render the app's error page for `status` in the default language."""
    from intake.web.errors import protocol_error_page

    try:
        return protocol_error_page(app, status).encode()
    except Exception:  # a broken app must not stop the refusal itself
        return (b'<!doctype html><html lang="en"><meta charset="utf-8">'
                b"<title>Error</title><p>This request could not be served.</p></html>")


def _http_response(status: int, body: bytes) -> bytes:
    from intake.web.security import HEADERS

    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)),
               "Connection": "close", **HEADERS}
    head = f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from intake.web import create_app

        return create_app()


def _log_no_request(_worker: Any, _request: Any) -> None:
    """Log nothing about a request as it starts."""


def options(host: str, port: int, workers: int, threads: int,
            log_level: str = "warning") -> dict[str, Any]:
    """Return gunicorn's settings for serving families."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": PrivateThreadWorker,
        "threads": threads,
        "worker_connections": WORKER_CONNECTIONS,
        # No access log: it would record who submitted, when, from where.
        "accesslog": None,
        "logger_class": PrivateLogger,
        "errorlog": "-",
        "loglevel": log_level,
        # gunicorn's default hook logs every request's method and path at debug level.
        "pre_request": _log_no_request,
        "control_socket_disable": True,
        "timeout": 120,
        "graceful_timeout": 20,
    }


def serve(host: str, port: int, workers: int, threads: int = THREADS,
          log_level: str = "warning", idle_seconds: float = IDLE_SECONDS) -> None:
    """Serve the app; request bodies stream to the app instead of being spooled."""
    # Set before gunicorn forks, so every worker inherits it.
    _IdleTimeoutSocket.idle_seconds = idle_seconds
    _Gunicorn(options(host, port, workers, threads, log_level)).run()
