"""The instance's settings file, `config.py`: written from checked data, never copied as code.

Flask executes `config.py` when the app starts, so whatever writes it decides
what runs. `intake init` and `intake restore` both write it here, from plain
values of known keys and types (strings, whole numbers, true/false), each
rendered as a Python literal. A backup carries these values as JSON; an old
backup's `config.py` is read as data (simple literal assignments only) and
never executed.
"""

from __future__ import annotations

import ast
import os
import runpy
from collections.abc import Mapping
from pathlib import Path

from intake.crypto.files import atomic_write, fsync_dir, make_private_dirs
from intake.store.settings import DEFAULTS

Value = str | int | bool

# Where the keyring and database live belongs to the host a backup is restored
# on, and the test-profile switch to a test suite: none of these travel.
NOT_CARRIED = frozenset({"KEYS_DIR", "DATABASE_URL", "INSECURE_TEST_PROFILES"})
MAX_TEXT = 4096
HEADER = (
    "# intake instance configuration, written by `intake init` or `intake restore`.\n"
    "# Keep it private and out of version control: SECRET_KEY signs sessions\n"
    "# and CSRF tokens; PEPPER is mixed into every family's follow-up code.\n"
)


class ConfigError(Exception):
    """Settings that cannot be carried or written: unknown keys or wrong types."""


def carried_kinds() -> dict[str, type]:
    """Return each key a backup carries, with the one type its value may have."""
    kinds = {key: type(value) for key, value in DEFAULTS.items()
             if type(value) in (str, int, bool) and key not in NOT_CARRIED}
    kinds.update(SECRET_KEY=str, PEPPER=str, BASE_URL=str, DEMO=bool)
    return kinds


def checked(values: Mapping[str, object], origin: str) -> dict[str, Value]:
    """Return `values` if every key is known and every value of its type, else raise."""
    kinds = carried_kinds()
    names = {"str": "text", "int": "a whole number", "bool": "true or false"}
    problems = [f"{key!r} is not a setting intake knows" for key in sorted(values)
                if key not in kinds]
    for key in sorted(set(values) & set(kinds)):
        value = values[key]
        # bool is an int to isinstance; a setting's type must match exactly.
        if type(value) is not kinds[key]:
            problems.append(f"{key} must be {names[kinds[key].__name__]}")
        elif isinstance(value, str) and (len(value) > MAX_TEXT or "\x00" in value):
            problems.append(f"{key} is too long or holds a NUL character")
        elif type(value) is int and not 0 <= value < 2**63:
            problems.append(f"{key} is out of range")
    problems += [f"{key} is missing" for key in ("SECRET_KEY", "PEPPER") if key not in values]
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ConfigError(f"{origin} cannot be used: {'; '.join(problems[:5])}{more}")
    return {key: values[key] for key in sorted(values)}  # type: ignore[misc]


def literal_assignments(source: str, origin: str) -> dict[str, object]:
    """Read `KEY = literal` lines from Python source without running any of it."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConfigError(f"{origin} is not readable as settings") from None
    values: dict[str, object] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
                continue
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
        raise ConfigError(f"{origin} holds more than simple settings (line {node.lineno}); "
                          "intake never runs code from a backup")
    return values


def read_local(instance_path: Path) -> tuple[dict[str, Value], list[str]]:
    """Load this instance's own config.py; return the carried settings and the keys left out."""
    # This is the file the running server already executes at every start.
    names = runpy.run_path(str(instance_path / "config.py"))
    kinds = carried_kinds()
    loaded = {key: value for key, value in names.items() if key.isupper()}
    left_out = sorted(key for key in loaded if key not in kinds)
    carried = {key: value for key, value in loaded.items() if key in kinds}
    return checked(carried, "config.py"), left_out


def render(values: Mapping[str, Value]) -> str:
    """Return config.py's text: one `KEY = literal` line per setting."""
    # repr of a str, int or bool is a Python literal whatever the value holds
    # (quotes and newlines are escaped), so a value cannot become a statement.
    lines = [f"{key} = {value!r}" for key, value in checked(values, "settings").items()]
    return HEADER + "\n".join(lines) + "\n"


def write(instance_path: Path, values: Mapping[str, Value]) -> Path:
    """Write config.py (readable by its owner only) from checked values; never overwrite."""
    text = render(values)
    make_private_dirs(instance_path)
    path = instance_path / "config.py"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(instance_path)
    return path


def update(instance_path: Path, values: Mapping[str, Value]) -> Path:
    """Set some settings in this instance's config.py, keeping the others; replace atomically."""
    current, _ = read_local(instance_path)
    path = instance_path / "config.py"
    atomic_write(path, render({**current, **values}).encode("utf-8"))
    return path
