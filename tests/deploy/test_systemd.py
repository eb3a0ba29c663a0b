"""The systemd units in deploy/, checked by systemd-analyze and run as the timer would."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, find_tool, values
from tests.live import initialise

UNITS = ("intake.service", "intake-backup.service", "intake-backup.timer")
SHIPPED_INTAKE = "/opt/intake/venv/bin/intake"
TEST_INTAKE = str(Path(sys.executable).parent / "intake")
# Measured with systemd 252 (Debian 12): 0.9 for the server, 0.2 for the backup.
# What is left open is the network the server needs (loopback sockets) and the
# host's root directory; a lost sandboxing line pushes the score over these.
EXPOSURE_LIMITS = {"intake.service": 0.9, "intake-backup.service": 0.2}
# systemd's own names for the checks every shipped service must pass.
SANDBOX_CHECKS = (
    "ProtectSystem=", "PrivateTmp=", "NoNewPrivileges=", "ProtectHome=", "PrivateDevices=",
    "User=/DynamicUser=", "CapabilityBoundingSet=~CAP_SYS_ADMIN",
    "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
    "CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)", "AmbientCapabilities=",
    "RestrictAddressFamilies=~AF_PACKET", "RestrictAddressFamilies=~AF_NETLINK",
    "RestrictAddressFamilies=~…", "SystemCallFilter=~@privileged", "SystemCallFilter=~@mount",
    "SystemCallFilter=~@debug", "SystemCallArchitectures=", "MemoryDenyWriteExecute=",
    "RestrictSUIDSGID=", "RestrictNamespaces=~user", "ProtectKernelModules=",
    "ProtectKernelTunables=", "ProtectControlGroups=", "UMask=",
)


def runnable_copies(folder: Path) -> Path:
    """Copy the units to `folder`, the server's ExecStart pointing at this checkout's intake.

    systemd-analyze verify refuses an ExecStart whose program is missing, and the shipped
    unit names the production venv (/opt/intake/venv); nothing else is changed.
    """
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        if name == "intake.service":
            assert text.count(SHIPPED_INTAKE) == 1
            text = text.replace(SHIPPED_INTAKE, TEST_INTAKE)
        (folder / name).write_text(text)
    return folder


def verify_problems(folder: Path, names: tuple[str, ...] = UNITS) -> list[str]:
    """Run systemd-analyze verify; return what it says about our units, and a failed exit."""
    done = subprocess.run([find_tool("systemd-analyze"), "verify", *(f"./{n}" for n in names)],
                          cwd=folder, capture_output=True, text=True, timeout=60)
    # verify exits 0 on an unknown key or an unparsable value, only warning about it.
    lines = (done.stdout + done.stderr).splitlines()
    problems = [line for line in lines if str(folder) in line or any(n in line for n in names)]
    if done.returncode != 0:
        problems.append(f"exit status {done.returncode}: {done.stderr.strip()}")
    return problems


def security(folder: Path, name: str) -> tuple[float, dict[str, bool]]:
    """Return systemd's overall exposure score for a unit, and which of its checks pass."""
    tool = find_tool("systemd-analyze")
    done = subprocess.run([tool, "security", "--offline=true", f"./{name}"], cwd=folder,
                          capture_output=True, text=True, timeout=60, check=True)
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert score is not None, done.stdout
    checks = subprocess.run([tool, "security", "--offline=true", "--json=short", f"./{name}"],
                            cwd=folder, capture_output=True, text=True, timeout=60, check=True)
    return float(score.group(1)), {c["name"]: c["set"] for c in json.loads(checks.stdout)}


def test_units_pass_systemd_analyze_verify_without_a_warning(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the server, backup and timer units with no warning."""
    assert verify_problems(runnable_copies(tmp_path)) == []


def test_the_verify_check_catches_a_misspelt_sandbox_line(tmp_path: Path) -> None:
    """A unit whose ProtectSystem line is misspelt, which systemd ignores with exit 0, fails."""
    runnable_copies(tmp_path)
    unit = tmp_path / "intake.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    assert verify_problems(tmp_path) != []


@pytest.mark.parametrize("name", sorted(EXPOSURE_LIMITS))
def test_services_are_sandboxed_as_systemd_analyze_security_reads_them(
        tmp_path: Path, name: str) -> None:
    """Every sandbox check named above passes, and the exposure score stays at its measure."""
    score, checks = security(runnable_copies(tmp_path), name)
    failing = [check for check in SANDBOX_CHECKS if checks.get(check) is not True]
    assert failing == []
    assert score <= EXPOSURE_LIMITS[name]


def test_server_writes_only_its_instance_folder_and_keyring() -> None:
    """The server's unit lets it write the instance and keyring it serves, nothing else."""
    text = (DEPLOY / "intake.service").read_text()
    assert values(text, "ProtectSystem") == ["strict"]
    assert values(text, "ReadWritePaths") == ["/var/lib/intake/instance /var/lib/intake/keys"]
    assert values(text, "Environment")[:2] == ["INTAKE_INSTANCE=/var/lib/intake/instance",
                                               "INTAKE_KEYS_DIR=/var/lib/intake/keys"]
    for other_grant in ("ReadWriteDirectories", "StateDirectory", "RuntimeDirectory",
                        "CacheDirectory", "LogsDirectory", "BindPaths"):
        assert values(text, other_grant) == [], other_grant
    assert values(text, "CapabilityBoundingSet") == [""]
    assert values(text, "User") == ["intake"]
    assert values(text, "IPAddressDeny") == ["any"]
    assert values(text, "IPAddressAllow") == ["localhost"]


def test_the_timer_starts_the_backup_every_night(tmp_path: Path) -> None:
    """systemd-analyze calendar puts the timer's next three runs one day apart."""
    text = (DEPLOY / "intake-backup.timer").read_text()
    assert values(text, "Unit") == ["intake-backup.service"]
    assert values(text, "Persistent") == ["true"]
    (spec,) = values(text, "OnCalendar")
    done = subprocess.run([find_tool("systemd-analyze"), "calendar", "--iterations=3", spec],
                          capture_output=True, text=True, timeout=30, check=True)
    runs = [datetime.datetime.strptime(day, "%Y-%m-%d") for day in
            re.findall(r"(\d{4}-\d{2}-\d{2}) 02:30:00 UTC", done.stdout)]
    assert len(runs) == 3
    assert [later - earlier for earlier, later in zip(runs, runs[1:], strict=False)] == \
        [datetime.timedelta(days=1)] * 2


def _as_the_timer_runs_it(line: str, root: Path) -> list[str]:
    """Turn an Exec line into argv for a test instance: systemd's %% is %, paths moved."""
    line = line.replace("%%", "%").replace(SHIPPED_INTAKE, TEST_INTAKE)
    line = line.replace("/var/backups/intake", str(root / "backups"))
    return shlex.split(line)


def test_nightly_backup_runs_unattended_and_keeps_two_weeks(tmp_path: Path) -> None:
    """The backup unit's commands, with no terminal and no passphrase, write tonight's archive.

    Its ExecStart writes intake-<UTC day>.tar; its ExecStartPost then deletes archives
    older than 14 days and keeps the rest.
    """
    text = (DEPLOY / "intake-backup.service").read_text()
    assert values(text, "ReadWritePaths") == ["/var/lib/intake/instance /var/backups/intake"]
    env = initialise(tmp_path) | {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    backups = tmp_path / "backups"
    backups.mkdir()
    old, recent = backups / "intake-2000-01-01.tar", backups / "intake-2000-01-02.tar"
    for path, age_days in ((old, 15), (recent, 13)):
        path.write_bytes(b"an older night")
        stamp = time.time() - age_days * 86400 - 3600
        os.utime(path, (stamp, stamp))
    (start,) = values(text, "ExecStart")
    (post,) = values(text, "ExecStartPost")
    for line in (start, post):
        subprocess.run(_as_the_timer_runs_it(line, tmp_path), env=env, cwd=tmp_path,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert sorted(p.name for p in backups.iterdir()) == [recent.name, f"intake-{today}.tar"]
