"""Where the deployment files live, and the tools that own their formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def find_tool(name: str) -> str:
    """Return the path of a system tool, or fail: `make test` installs it on a fresh machine."""
    # nginx and tor live in /usr/sbin, which a non-root PATH may lack.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is missing: `make test` installs it with Debian's systemd, tor "
                    "and nginx packages (make deploy-tools)")
    return found


def directives(text: str) -> list[tuple[str, str]]:
    """Return a systemd unit's or a torrc's `Key=value` / `Key value` lines, in order."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=") if "=" in line.split(" ", 1)[0] \
            else line.partition(" ")
        pairs.append((key.strip(), value.strip()))
    return pairs


def values(text: str, key: str) -> list[str]:
    """Return every value a unit or torrc gives `key`, in order."""
    return [value for name, value in directives(text) if name == key]
