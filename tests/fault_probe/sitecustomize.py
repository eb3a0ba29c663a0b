"""Test-only probe: give the real server's app routes that fail on purpose.

`tests/test_server.py` puts this folder on PYTHONPATH for the server it starts.
When INTAKE_TEST_FAULTS is set, every app `intake serve` builds gains routes
under /test-fault/ that raise or log an exception quoting a client address, a
time of day and a record id, so a test can read what the server's log keeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

# What a careless line would carry: a record id, a client address, a time of day.
FAULT_TEXT = "case 5f1c2a9b8d7e6f40a1b2c3d4e5f60718 from 127.0.0.1 at 23:59:58"
# An exception's message may quote what a family typed; no log line may hold it.
EXCEPTION_TEXT = f"{FAULT_TEXT}: the family wrote khavaran-marker"


def _fail() -> str:
    raise RuntimeError(EXCEPTION_TEXT)


def _fail_while_streaming() -> Any:
    from flask import Response

    def chunks() -> Iterator[bytes]:
        yield b"starting"
        raise RuntimeError(EXCEPTION_TEXT)

    return Response(chunks())


def _log_carelessly() -> str:
    from flask import current_app

    current_app.logger.warning("looked at %s", FAULT_TEXT)
    return "logged"


def _fail_in_a_thread() -> str:
    import threading

    thread = threading.Thread(target=_fail)
    thread.start()
    thread.join()
    return "failed in a thread"


class _FailsWhenCollected:
    def __del__(self) -> None:
        raise RuntimeError(EXCEPTION_TEXT)


def _fail_when_collected() -> str:
    # Python reports an exception raised in __del__ (or a generator's close) through
    # sys.unraisablehook, which writes the message to stderr unless replaced.
    _FailsWhenCollected()
    return "failed when collected"


def _bad_header() -> Any:
    return "bad header", 200, {"X-Broken": "a\x01b"}


def _with_faults(create_app: Any) -> Any:
    def create(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        for name, view in (("view", _fail), ("stream", _fail_while_streaming),
                           ("log", _log_carelessly), ("header", _bad_header),
                           ("thread", _fail_in_a_thread),
                           ("collected", _fail_when_collected)):
            app.add_url_rule(f"/test-fault/{name}", f"test_fault_{name}", view)
        return app

    return create


if os.environ.get("INTAKE_TEST_FAULTS"):
    import intake.web

    intake.web.create_app = _with_faults(intake.web.create_app)
