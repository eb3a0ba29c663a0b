"""Exporting a case as an evidence bundle: a signed BagIt zip streamed to the reviewer.

The bundle is built by intake.evidence (see its bundle module for the
layout); this view only hands it what the reviewer's session holds and what
the reviewer chose. Nothing is written to disk: the zip's bytes are sent as
they are made.
"""

from __future__ import annotations

from flask import current_app, render_template, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from intake.evidence.case import CaseContents, history
from intake.evidence.export import Place, export_case, exporter_of
from intake.evidence.redact import Choice, ConsentRefused
from intake.store.models import Submission
from intake.testimonies import cases, filenames
from intake.web.bound import get_desk, get_settings, get_store
from intake.web.database import get_session
from intake.web.review import present
from intake.web.review.blueprint import bp
from intake.web.review.forms import (
    CONNECTION,
    FAMILY_STATUSES,
    RELIABILITY,
    STATUSES,
    VIOLATION,
    ExportForm,
)
from intake.web.review.views import find
from intake.web.staff_auth import case_required, current


def render_page(submission: Submission, contents: CaseContents) -> bytes:
    """Render the answers as a page in the current language."""
    record = contents.record
    # Every code a reviewer chose is written out in the exporting reviewer's language.
    assessment = record.get("assessment") or {}
    judged = [(title, present.choice_label(options, assessment[name]))
              for name, title, options in (("violation", _l("Violation"), VIOLATION),
                                           ("reliability", _l("Source reliability"),
                                            RELIABILITY),
                                           ("connection", _l("Source connection"), CONNECTION))
              if assessment.get(name)]
    return render_template("review/export.html", submission=submission,
                           sections=present.sections(record["answers"]),
                           status=present.choice_label(STATUSES, record.get("status") or ""),
                           family_status=present.choice_label(
                               FAMILY_STATUSES, record.get("family_status") or ""),
                           assessment=judged, files=[history(f) for f in contents.files],
                           record=record, left_out=contents.left_out).encode()


@bp.get("/<case_id>/export")
@case_required
def export(case_id: str) -> ResponseReturnValue:
    """Download the case as a signed bundle for internal documentation."""
    return _bundle(find(case_id), Choice())


@bp.post("/<case_id>/export")
@case_required
def export_for(case_id: str) -> ResponseReturnValue:
    """Download the case as a signed bundle for the use the reviewer chose."""
    submission, form = find(case_id), ExportForm()
    # A case this session cannot open is refused as such, whatever the form holds.
    cases.data_key(submission, current().epoch_keys)
    if not form.validate():
        return render_template("review/export_refused.html", submission=submission,
                               reason="invalid"), 400
    return _bundle(submission, Choice(form.purpose.data, form.consent_reason.data or "",
                                      form.contact_reason.data or ""))


def _bundle(submission: Submission, choice: Choice) -> ResponseReturnValue:
    unlocked, settings = current(), get_settings()
    place = Place(get_desk().keyring, get_store(), settings.organisation_name,
                  settings.tsa_url)
    try:
        exporter = exporter_of(get_session(), settings, unlocked.user, unlocked.epoch_keys,
                               unlocked.signer)
        chunks = export_case(get_session(), place, exporter, submission, render_page, choice)
    except ConsentRefused:
        return render_template("review/export_refused.html", submission=submission,
                               reason="consent"), 409
    response = current_app.response_class(stream_with_context(chunks),
                                          mimetype="application/zip")
    response.headers["Content-Disposition"] = filenames.content_disposition(
        "attachment", f"case-{submission.id[:8]}.zip")
    return response
