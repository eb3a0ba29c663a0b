"""Run a program under the system-call and memory rules of a systemd unit, without systemd.

Run by Debian's /usr/bin/python3 (for python3-seccomp): `sandbox.py UNIT PROGRAM ARGS...`.
From the unit it applies what systemd would apply to the process itself:
SystemCallFilter= (an allow-list, then the ~ lists taken out of it; the groups
expanded by `systemd-analyze syscall-filter`, so they are systemd's own),
SystemCallErrorNumber=, RestrictAddressFamilies= (as systemd does, by the first
argument of socket()), NoNewPrivileges= and MemoryDenyWriteExecute= (through the
kernel's PR_SET_MDWE, which systemd itself uses where the kernel has it). Mounts,
users and the network are not emulated here.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import socket
import subprocess
import sys
from pathlib import Path

import seccomp  # type: ignore[import-not-found]

PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 1
SHM_EXEC = 0o100000


def unit_values(text: str, key: str) -> list[str]:
    """Return every value the unit gives `key`."""
    return [line.split("=", 1)[1].strip() for line in text.splitlines()
            if line.strip().startswith(f"{key}=")]


def expand(name: str) -> set[str]:
    """Expand a system-call group (@name) into system-call names, as systemd does."""
    if not name.startswith("@"):
        return {name}
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True,
                         text=True, check=True).stdout
    calls: set[str] = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            calls |= expand(line)
    return calls


def allowed_calls(filters: list[str]) -> set[str]:
    """Apply SystemCallFilter= lines in order: the first allow-list, then ~ lists taken out."""
    allowed: set[str] = set()
    for line in filters:
        deny = line.startswith("~")
        names = set().union(*(expand(n) for n in line.lstrip("~").split()))
        allowed = allowed - names if deny else allowed | names
    return allowed


def deny_write_execute(rules: seccomp.SyscallFilter, calls: set[str]) -> set[str]:
    """Refuse writable-and-executable memory by filter, as systemd does without PR_SET_MDWE.

    mmap may not ask for write and execute together; mprotect and pkey_mprotect may
    not add execute; shmat may not ask for SHM_EXEC. Returns the calls left to allow.
    """
    both = mmap.PROT_WRITE | mmap.PROT_EXEC
    allowed_when = {"mmap": (2, both, (0, mmap.PROT_WRITE, mmap.PROT_EXEC)),
                    "mprotect": (2, mmap.PROT_EXEC, (0,)),
                    "pkey_mprotect": (2, mmap.PROT_EXEC, (0,)),
                    "shmat": (2, SHM_EXEC, (0,))}
    for call, (argument, mask, values) in allowed_when.items():
        if call in calls:
            for value in values:  # rules for one call are alternatives
                rules.add_rule(seccomp.ALLOW, call,
                               seccomp.Arg(argument, seccomp.MASKED_EQ, mask, value))
    return calls - set(allowed_when)


def load_filter(text: str, filter_write_execute: bool) -> None:
    """Load the unit's system-call and address-family filter into this process."""
    number = getattr(errno, (unit_values(text, "SystemCallErrorNumber") or ["EPERM"])[0])
    rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(number))
    calls = allowed_calls(unit_values(text, "SystemCallFilter"))
    if filter_write_execute:
        calls = deny_write_execute(rules, calls)
    for call in sorted(calls - {"socket"}):
        try:
            rules.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError, OSError):
            continue  # a name this architecture does not have
    for family in " ".join(unit_values(text, "RestrictAddressFamilies")).split():
        rules.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ,
                                                            getattr(socket, family)))
    rules.load()


def main() -> None:
    """Apply the unit's rules to this process, then become the program."""
    unit, program = Path(sys.argv[1]), sys.argv[2]
    text = unit.read_text()
    libc = ctypes.CDLL(None, use_errno=True)
    if unit_values(text, "NoNewPrivileges") == ["yes"]:
        assert libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    # Linux 6.3 and later refuse W+X memory themselves (EACCES); before, a filter does (EPERM).
    filter_write_execute = unit_values(text, "MemoryDenyWriteExecute") == ["yes"] and \
        libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0
    load_filter(text, filter_write_execute)
    marks = os.environ.get("SANDBOX_MARKS")
    if marks:
        Path(marks, f"{os.getpid()}.{Path(sys.argv[3] if len(sys.argv) > 3 else program).name}"
             ).touch()
    os.execv(program, sys.argv[2:])  # noqa: S606 - become the program, as systemd does


if __name__ == "__main__":
    main()
