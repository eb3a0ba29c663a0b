"""Exporting a case as an evidence bundle: a signed BagIt zip streamed to the reviewer.

The bundle is built by intake.evidence (see its bundle module for the
layout); this view only gathers what the reviewer's session holds. Nothing
is written to disk: the zip's bytes are sent as they are made.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from flask import current_app, render_template, stream_with_context
from flask.typing import ResponseReturnValue

from .. import audit, cases, filenames, trust
from ..bound import get_desk, get_settings, get_store
from ..db import get_session
from ..evidence import Header, Member, request_token, write_bundle
from ..evidence import case as evidence_case
from ..models import Submission
from ..staff_auth import case_required, current
from ..storage import utc_today
from . import bp, present
from .views import find, linked_ids


def _page(submission: Submission, contents: evidence_case.CaseContents) -> bytes:
    """Render the answers as a page in the reviewer's language."""
    record = contents.record
    return render_template("review/export.html", submission=submission,
                           sections=present.sections(record["answers"]),
                           record=record).encode()


@bp.get("/<case_id>/export")
@case_required
def export(case_id: str) -> ResponseReturnValue:
    """Download the case as a signed evidence bundle."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    settings, keyring = get_settings(), get_desk().keyring
    contents = evidence_case.collect(db, get_store(), submission,
                                     cases.data_key(submission, unlocked.epoch_keys),
                                     unlocked.epoch_keys, linked_ids(submission.id))
    audit.record(db, unlocked.user.id, "export", submission.id)
    signer, chain = unlocked.signer, None
    if signer is not None:
        chain = trust.load_chain(keyring, submission.desk_id, signer.root)
        # Signed at export, so the trail up to and including this export is covered.
        audit.checkpoint(db, chain, signer)
    db.commit()
    header = Header(settings.organisation_name, submission.desk_id, submission.id,
                    utc_today(), unlocked.user.name, unlocked.user.id,
                    trust.fingerprint_text(signer.root) if signer else "", settings.tsa_url)
    page, trail = _page(submission, contents), evidence_case.trail(db, submission.id)
    custody: Iterator[Member] = iter(())
    if signer is not None and chain is not None:
        custody = evidence_case.custody(db, keyring, chain, submission.id,
                                        signer.key.public_key)
    stamp = partial(request_token, settings.tsa_url) if settings.tsa_url else None
    chunks = write_bundle(header, evidence_case.payload(contents, page, get_store(), trail),
                          custody, signer.key if signer else None, stamp)
    response = current_app.response_class(stream_with_context(chunks),
                                          mimetype="application/zip")
    response.headers["Content-Disposition"] = filenames.content_disposition(
        "attachment", f"case-{submission.id[:8]}.zip")
    return response
