"""Malformed requests to every family route of the real server: no 500, no hung connection,
nothing kept.

Framing errors (broken multipart boundaries, malformed chunked bodies, wrong lengths,
truncated bodies, huge headers) must leave no row, blob or partial file at all; hostile
content in well-framed forms (invalid UTF-8, NUL bytes, thousands of parts) and damaged
images may at most leave what the family's form keeps for them by design (pending files,
referenced by their rows), and anything acknowledged must be stored whole.
"""

from __future__ import annotations

import collections
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from intake.store.models import PendingFile, Submission
from tests import live
from tests.proof import malformed
from tests.proof.families import (
    BOUNDARY,
    database_url_of,
    decrypt_every_record,
    load_form,
    multipart,
    referenced_blobs,
    seeded,
    store_files,
)

FRAMING_CASES = 1_500
FORM_CASES = 500
IMAGE_CASES = 120
# What a family sees once something is stored, in English and in Persian.
RECEIVED = ("Your testimony has been received", "Added to your testimony", "شهادت شما دریافت شد",
            "به شهادت شما افزوده شد")


def visitor_with_a_case(port: int) -> malformed.Visitor:
    """A browser session with a stored testimony whose follow-up code it holds."""
    cookie, token, nonce = load_form(port)
    page = malformed.send(port, malformed.request("GET", "/submit", [("Cookie", cookie)],
                                                  lang="en")).body.decode()
    code = re.search(r'name="code" type="hidden" value="([^"]+)"', page)
    assert code, page[:2000]
    body = multipart({"csrf_token": token, "form_nonce": nonce, "code": code.group(1),
                      "consent_internal": "y", "name": "Seeded case", "relationship": "mother",
                      "testimony": "the case follow-up visits open"}, "a.txt", b"seed")
    answer = malformed.send(port, malformed.request("POST", "/submit", [
        ("Cookie", cookie), ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
        body, lang="en"))
    assert answer.status == 200, answer.body[:2000]
    return malformed.Visitor(cookie, token, code.group(1))


def counts(root: Path) -> tuple[int, int]:
    """How many submissions and pending files the database holds."""
    engine = create_engine(database_url_of(root, None))
    with Session(engine) as db:
        found = (db.scalar(select(func.count()).select_from(Submission)) or 0,
                 db.scalar(select(func.count()).select_from(PendingFile)) or 0)
    engine.dispose()
    return found


def acknowledged(answer: malformed.Answer, route: str) -> bool:
    """Whether the page says that something was stored (/submit/received shows a receipt
    again in another language, storing nothing)."""
    page = answer.body.decode(errors="replace")
    return (route in ("/submit", "/followup/add") and answer.status == 200
            and any(text in page for text in RECEIVED))


def fire(port: int, cases: list[malformed.Case], may_store: bool = False
         ) -> tuple[dict[str, list[str]], int]:
    """Send every case; return the answers that broke a rule, by rule, and how many were
    acknowledged as stored (a rule broken unless `may_store`); print the statuses."""
    stored = 0
    broken: dict[str, list[str]] = collections.defaultdict(list)
    statuses: collections.Counter[tuple[str, int | None]] = collections.Counter()
    for number, case in enumerate(cases):
        answer = malformed.send(port, case.data)
        statuses[case.kind, answer.status] += 1
        label = f"#{number} {case.kind} to {case.route}"
        if answer.hung:
            broken["hung"].append(label)
        elif answer.status is None and case.kind not in malformed.UNANSWERED:
            broken["no answer"].append(label)
        elif answer.status is not None and answer.status >= 500 and answer.status != 501:
            broken[str(answer.status)].append(label)
        elif acknowledged(answer, case.route):
            stored += 1
            if not may_store:
                broken["acknowledged"].append(label)
    for (kind, status), number in sorted(statuses.items(), key=str):
        print(f"{number:5d} x {status} {kind}")
    return dict(broken), stored


@pytest.fixture
def served(tmp_path: Path) -> live.LiveServer:
    """The real server with a vetted reviewer; idle connections closed after 5 s."""
    env = live.initialise(tmp_path, reviewers=("reviewer",))
    server = live.start(tmp_path, env, workers=1, options=("--idle-timeout", "5"))
    yield server  # type: ignore[misc]
    server.stop()


def test_two_thousand_malformed_requests_get_no_500_no_hang_and_leave_nothing(
        served: live.LiveServer, seed: int) -> None:
    """1,500 requests with broken framing and 500 with hostile content, to every family route,
    then 120 forms with damaged TIFFs (CMYK, LAB, YCbCr) and 16-bit PNGs: every one answered,
    none with a 500; framing errors leave the store and the database exactly as they were."""
    rng = seeded(seed)
    visitor = visitor_with_a_case(served.port)
    before, blobs = counts(served.root), store_files(served.root)
    broken, _ = fire(served.port, list(malformed.framing_cases(visitor, rng, FRAMING_CASES)))
    assert broken == {}
    assert counts(served.root) == before
    assert store_files(served.root) == blobs
    # A well-framed, valid form whose text holds NUL bytes or invalid UTF-8 is a testimony:
    # stored if acknowledged, and only then.
    broken, stored = fire(served.port, list(malformed.form_cases(visitor, rng, FORM_CASES)),
                          may_store=True)
    assert broken == {}
    assert counts(served.root)[0] == before[0] + stored
    stored += send_images(served.port, visitor, rng)
    assert counts(served.root)[0] == before[0] + stored
    served.stop()
    assert [name for name in store_files(served.root) if name.endswith(".partial")] == []
    assert store_files(served.root) == referenced_blobs(served.root)
    assert len(decrypt_every_record(served.root)) == before[0] + stored
    assert "unexpected" not in served.log()


def send_images(port: int, visitor: malformed.Visitor, rng: random.Random,
                count: int = IMAGE_CASES) -> int:
    """Send whole forms with unusual or damaged images; return how many were stored."""
    statuses: collections.Counter[int | None] = collections.Counter()
    stored = 0
    for number in range(count):
        route = "/submit" if number % 4 else "/followup/add"
        _, _, nonce = load_form(port)
        answer = malformed.send(port, malformed.image_request(visitor, route, nonce, rng))
        statuses[answer.status] += 1
        assert answer.status in (200, 422), (number, answer.status, answer.body[:1500])
        page = answer.body.decode(errors="replace")
        stored += acknowledged(answer, route)
        if answer.status == 422:
            assert re.search(r"could not|cannot|نمی|نشد", page), page[:1500]
    print(f"images: {dict(statuses)}, {stored} stored")
    return stored


@pytest.mark.parametrize("damage", [b"zz\r\n", b"-5\r\n", b"5;ext=\x00\r\n", b"5 \r\n"])
def test_a_malformed_chunk_size_gets_the_400_page_in_persian_closes_and_keeps_nothing(
        served: live.LiveServer, damage: bytes) -> None:
    """Before: gunicorn's InvalidChunkSize or InvalidChunkExtension, raised while the app read
    the body, escaped as a 500 (the outside measurement's 500s from chunked bodies)."""
    visitor = visitor_with_a_case(served.port)
    before, blobs = counts(served.root), store_files(served.root)
    headers, body = malformed._base(visitor, "/submit", seeded(1))
    first = f"{len(body) // 2:x}\r\n".encode() + body[:len(body) // 2] + b"\r\n"
    data = malformed.request("POST", "/submit", [*headers, ("Transfer-Encoding", "chunked")],
                             first + damage + body[len(body) // 2:] + b"\r\n0\r\n\r\n")
    answer = malformed.send(served.port, data)
    assert answer.status == 400
    assert b"Connection: close" in answer.head
    assert "فرم خوانده نشد. چیزی ذخیره نشد" in answer.body.decode()
    assert counts(served.root) == before
    assert store_files(served.root) == blobs


def test_a_chunked_body_missing_its_terminator_gets_400_and_keeps_no_partial_blob(
        served: live.LiveServer) -> None:
    """Before: gunicorn's ChunkMissingTerminator escaped as a 500; the file part already
    streaming into an encrypted blob must be removed with the request."""
    visitor = visitor_with_a_case(served.port)
    blobs = store_files(served.root)
    headers, body = malformed._base(visitor, "/submit", seeded(2))
    at = len(body) - 100  # inside the file part: its blob has started
    data = malformed.request("POST", "/submit", [*headers, ("Transfer-Encoding", "chunked")],
                             f"{at:x}\r\n".encode() + body[:at] + b"XX" + body[at:])
    answer = malformed.send(served.port, data)
    assert answer.status == 400
    assert store_files(served.root) == blobs
