"""deploy/torrc, checked by tor itself: valid, an onion service in front of intake serve."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, find_tool, values

# Debian's tor@default.service reads this first, then /etc/tor/torrc.
DEBIAN_DEFAULTS = Path("/usr/share/tor/tor-service-defaults-torrc")
POW = "HiddenServicePoWDefensesEnabled"


def tor(*args: str, torrc: Path = DEPLOY / "torrc") -> subprocess.CompletedProcess[str]:
    """Run tor on a torrc as Debian's service does, defaults file included where present."""
    defaults = ["--defaults-torrc", str(DEBIAN_DEFAULTS)] if DEBIAN_DEFAULTS.exists() else []
    return subprocess.run([find_tool("tor"), *defaults, "-f", str(torrc), "--RunAsDaemon", "0",
                           *args], capture_output=True, text=True, timeout=60)


def require_pow() -> None:
    """Skip, saying why, when this tor cannot run the proof-of-work defence at all."""
    modules = subprocess.run([find_tool("tor"), "--list-modules"], capture_output=True,
                             text=True, timeout=30).stdout
    options = subprocess.run([find_tool("tor"), "--list-torrc-options"], capture_output=True,
                             text=True, timeout=30).stdout.split()
    if "pow: yes" not in modules or POW not in options:
        pytest.skip(f"this tor has no proof-of-work defence ({POW} needs tor 0.4.8 or later "
                    "built with its pow module); docs/deploy.md says what that leaves open")


def test_torrc_passes_tor_verify_config() -> None:
    """tor --verify-config accepts deploy/torrc with Debian's service defaults."""
    require_pow()
    done = tor("--verify-config")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration was valid" in done.stdout


def test_the_verify_check_refuses_a_misspelt_option(tmp_path: Path) -> None:
    """The same check fails on a torrc whose proof-of-work line is misspelt."""
    broken = tmp_path / "torrc"
    broken.write_text((DEPLOY / "torrc").read_text().replace(POW, "HiddenServicePoWDefenseEnabled"))
    assert tor("--verify-config", torrc=broken).returncode != 0


def test_tor_reads_an_onion_service_with_proof_of_work_and_no_socks_port() -> None:
    """As tor reads it: PoW on, streams capped per circuit, port 80 to 127.0.0.1:8000, no SOCKS."""
    require_pow()
    done = tor("--dump-config", "short")
    assert done.returncode == 0, done.stderr
    read = done.stdout
    assert values(read, POW) == ["1"]
    assert values(read, "HiddenServicePort") == ["80 127.0.0.1:8000"]
    assert values(read, "HiddenServiceDir") == ["/var/lib/tor/intake/"]
    assert values(read, "HiddenServiceMaxStreams") == ["20"]
    assert values(read, "HiddenServiceMaxStreamsCloseCircuit") == ["1"]
    # Debian's defaults open two SOCKS ports; this tor must offer none to the host.
    assert values(read, "SocksPort") == ["0"]


def test_the_onion_service_points_at_the_port_intake_serves() -> None:
    """The server unit's ExecStart listens on 127.0.0.1:8000, where the onion service points."""
    (start,) = values((DEPLOY / "intake.service").read_text(), "ExecStart")
    assert "serve --host 127.0.0.1 --port 8000 " in f"{start} "
