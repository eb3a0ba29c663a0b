"""intake itself runs under intake.service's system-call filter and memory rules.

systemd is not running on a test machine, so tests/deploy/sandbox.py applies the
unit's own SystemCallFilter=, RestrictAddressFamilies=, NoNewPrivileges= and
MemoryDenyWriteExecute= to the real commands (init, serve, backup) with seccomp
and PR_SET_MDWE. A call the filter refuses fails with EPERM, as under systemd.
"""

from __future__ import annotations

import http.client
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import tests.live
from tests.deploy.conftest import DEPLOY
from tests.live import ADMIN_PASSPHRASE, initialise, start
from tests.review.test_login_live import attempt, code_now
from tests.submit.conftest import gps_jpeg
from tests.submit.test_crash import BOUNDARY, form_session

SANDBOX = Path(__file__).resolve().parent / "sandbox.py"
DEBIAN_PYTHON = "/usr/bin/python3"


def sandboxed(folder: Path, unit: str, program: str) -> Path:
    """Write an executable that runs `program` under `unit`'s rules."""
    found = subprocess.run([DEBIAN_PYTHON, "-c", "import seccomp"], capture_output=True)
    if found.returncode != 0:
        pytest.fail("Debian's python3-seccomp is missing: `make test` installs it "
                    "(make deploy-tools)")
    wrapper = folder / f"sandboxed-{Path(program).name}"
    wrapper.write_text(f'#!/bin/sh\nexec {DEBIAN_PYTHON} {SANDBOX} {DEPLOY / unit} '
                       f'{program} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def submission(token: str, nonce: str) -> bytes:
    """A family's form with a photo whose EXIF the server must rebuild away."""
    fields = {"csrf_token": token, "form_nonce": nonce, "consent_internal": "y",
              "name": "Sandboxed", "relationship": "sister", "testimony": "Under the filter."}
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
                 'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + gps_jpeg() + f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def submit(port: int) -> int:
    """Send a testimony with a photo as a browser would; return the answer's status."""
    cookie, token, nonce = form_session(port)
    body = submission(token, nonce)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/submit", body, {
        "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    response = connection.getresponse()
    response.read()
    return response.status


def test_the_sandbox_refuses_what_the_unit_forbids(tmp_path: Path) -> None:
    """Under the unit's rules, chown (@privileged), a netlink socket and W+X memory fail."""
    python = sandboxed(tmp_path, "intake.service", sys.executable)
    probe = ("import mmap, os, socket\n"
             "for attempt in (lambda: os.chown('.', 0, 0),\n"
             "                lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW),\n"
             "                lambda: mmap.mmap(-1, 4096, prot=7)):\n"
             "    try:\n        attempt()\n        print('allowed')\n"
             "    except OSError as exc:\n        print('refused', exc.errno)\n")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    # W+X memory: EACCES from the kernel's PR_SET_MDWE, EPERM from the filter before Linux 6.3.
    assert done.stdout.split("\n")[:3] in (["refused 1", "refused 1", "refused 13"],
                                           ["refused 1", "refused 1", "refused 1"]), done.stderr


def test_init_serve_submit_login_and_backup_work_under_the_units_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A photo is submitted and rebuilt, the admin logs in, and a backup is written, all sandboxed.

    A new dependency that needs a system call outside @system-service (or one of
    @privileged and @resources) or writable executable memory fails here, not in production.
    """
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("SANDBOX_MARKS", str(marks))
    monkeypatch.setattr(tests.live, "INTAKE",
                        str(sandboxed(tmp_path, "intake.service", tests.live.INTAKE)))
    env = initialise(tmp_path)
    server = start(tmp_path, env, workers=1)
    try:
        assert submit(server.port) == 200
        assert attempt(server, "admin", ADMIN_PASSPHRASE, code_now(server.instance, "admin")) \
            == 302
    finally:
        server.stop()
    with sqlite3.connect(server.instance / "intake.sqlite3") as database:
        stored = [database.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
                  for table in ("submissions", "attachments")]
    assert stored == [1, 1]
    backup = sandboxed(tmp_path, "intake-backup.service", str(Path(sys.executable).parent
                                                             / "intake"))
    subprocess.run([str(backup), "backup", str(tmp_path / "night.tar")], env=env, check=True,
                   capture_output=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert (tmp_path / "night.tar").stat().st_size > 0
    assert sorted(mark.suffix for mark in marks.iterdir()) == [".backup", ".init", ".serve"]
