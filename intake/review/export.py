"""Exporting a case as an evidence bundle: a zip streamed to the reviewer, never written to disk.

The bundle holds the answers as JSON and as a readable page, the files as
received by the desk, the case's audit trail, and MANIFEST.sha256 listing the
SHA-256 of every other member.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator

from flask import current_app, render_template, stream_with_context
from flask.typing import ResponseReturnValue

from .. import audit, cases
from ..db import get_session
from ..models import Submission
from . import bp, present
from .auth import current, reviewer_required
from .views import find, linked_ids


class _Pipe:
    """A write-only file for zipfile whose bytes are handed on as they are written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        """Nothing is buffered here."""

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\- ]", "_", name)[:100] or "file"


def _members(submission: Submission, key: bytes) -> Iterator[tuple[str, Iterator[bytes]]]:
    db, keys = get_session(), current().epoch_keys
    store = current_app.extensions["intake.desk"].store
    found = cases.answers(submission, key)
    additions = [(a, cases.data_key(a, keys)) for a in
                 db.query(Submission).filter_by(parent_id=submission.id)]
    record = {"id": submission.id, "received_on": submission.received_on.isoformat(),
              "status": submission.status, "labels": cases.labels(submission, key),
              "assessment": cases.assessment(submission, key), "answers": found,
              "linked_cases": linked_ids(submission.id),
              "additions": [{"id": a.id, "received_on": a.received_on.isoformat(),
                             "answers": cases.answers(a, k)} for a, k in additions]}
    yield "case.json", iter([json.dumps(record, ensure_ascii=False, indent=2).encode()])
    page = render_template("review/export.html", submission=submission,
                           sections=present.sections(found), record=record)
    yield "case.html", iter([page.encode()])
    for owner, owner_key in [(submission, key), *additions]:
        for number, (attachment, meta) in enumerate(cases.attachments(db, owner, owner_key)):
            name = f"files/{owner.id[:8]}-{number + 1}-{_safe(meta.get('filename') or '')}"
            yield name, cases.file_chunks(store, owner, owner_key, attachment)
    trail = [{"seq": e.seq, "at": e.at, "actor": e.actor_id, "action": e.action,
              "detail": e.detail, "hash": e.hash} for e in audit.trail(db, submission.id)]
    yield "audit.json", iter([json.dumps(trail, indent=2).encode()])


def bundle(submission: Submission, key: bytes) -> Iterator[bytes]:
    """Yield the zip's bytes as each member is written."""
    pipe, digests = _Pipe(), []
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for name, chunks in _members(submission, key):
            digest = hashlib.sha256()
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in chunks:
                    digest.update(chunk)
                    member.write(chunk)
                    yield pipe.drain()
            digests.append(f"{digest.hexdigest()}  {name}\n")
        archive.writestr("MANIFEST.sha256", "".join(digests))
    yield pipe.drain()


@bp.get("/<case_id>/export")
@reviewer_required
def export(case_id: str) -> ResponseReturnValue:
    """Download the case as an evidence bundle."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    key = cases.data_key(submission, unlocked.epoch_keys)
    audit.record(db, unlocked.user.id, "export", submission.id)
    db.commit()
    response = current_app.response_class(stream_with_context(bundle(submission, key)),
                                          mimetype="application/zip")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"case-{submission.id[:8]}.zip")
    return response
