"""Run the `intake` command line and kill it with SIGKILL at a chosen call, as a power cut would.

    python -m tests.kill_at POINT -- intake arguments...

POINT is one or more `target@n` joined by `,`: the process sends itself SIGKILL
as the n-th call of the last target begins, counting its calls only after the
earlier targets were each called their number of times. A target is
`module:attribute` (a function, or `Class.method`), or `commit`, which is the
moment after a transaction's statements reached the database and before its
COMMIT. Example: `intake.cli.keys:_Bar.resealed@2,commit@1` dies inside the
third batch's transaction. Nothing in intake changes: the wraps are made here,
in the child process, before the real command line runs. A point never reached
lets the command finish, so the test sees exit status 0 instead of -9.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any


class Countdown:
    """The stages of a kill point; `called(target)` counts a call and kills at the last one."""

    def __init__(self, point: str) -> None:
        self.stages = [(target, int(n)) for target, n in
                       (stage.rsplit("@", 1) for stage in point.split(","))]
        self.calls = 0

    def called(self, target: str) -> None:
        if not self.stages or self.stages[0][0] != target:
            return
        self.calls += 1
        if self.calls < self.stages[0][1]:
            return
        self.stages.pop(0)
        self.calls = 0
        if not self.stages:
            os.kill(os.getpid(), signal.SIGKILL)


def wrap(target: str, countdown: Countdown) -> None:
    """Replace the named function or method by one that reports each call first."""
    module_name, attribute = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    real: Callable[..., Any] = getattr(owner, name)

    def reported(*args: Any, **kwargs: Any) -> Any:
        countdown.called(target)
        return real(*args, **kwargs)

    setattr(owner, name, reported)


def arm(point: str) -> None:
    """Wrap every target the point names."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    countdown = Countdown(point)
    for target in {target for target, _ in countdown.stages}:
        if target == "commit":
            event.listen(Engine, "commit", lambda _connection: countdown.called("commit"))
        else:
            wrap(target, countdown)


def main() -> int:
    """Arm the kill point, then run the real `intake` command line with the remaining words."""
    point, separator, *arguments = sys.argv[1:]
    assert separator == "--", "usage: python -m tests.kill_at POINT -- intake arguments..."
    arm(point)
    from intake.cli import main as intake

    sys.argv = ["intake", *arguments]
    return intake()  # type: ignore[no-any-return]


if __name__ == "__main__":
    sys.exit(main())
