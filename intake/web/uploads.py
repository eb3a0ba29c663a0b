"""Wiring the encrypting request class, the blob store and the desk into the app."""

from __future__ import annotations

import os

from flask import Flask, current_app, g, request
from flask_babel import get_locale

from intake.crypto import Keyring
from intake.desk.trust import high_water
from intake.store.blobs import Store
from intake.store.live_settings import load
from intake.store.settings import Settings
from intake.store.throttle import WorkGate, purge_expired
from intake.testimonies.submissions import Desk
from intake.web.bound import Uploads, bind_desk, get_desk, get_settings, get_uploads
from intake.web.database import get_session, unless_busy
from intake.web.errors import StorageFull
from intake.web.request import EncryptingRequest

UPLOAD_ENDPOINTS = frozenset({"submit.submit", "followup.add", "review.record"})
NEW_WORK_ENDPOINTS = UPLOAD_ENDPOINTS | {"submit.form"}
# How long a follow-up visit waits for a code check when many run at once.
CODE_CHECK_WAIT_SECONDS = 20.0


def apply_live_settings() -> None:
    """Load the admin-set settings for this request; the upload limit applies before parsing."""
    settings = get_settings()
    live = load(get_session(), settings.organisation_name, settings.max_upload_bytes)
    g.live_settings = live
    request.max_content_length = live.upload_limit_mib * 2**20
    # Hand the connection back before the body is read: a slow upload must not hold a
    # pooled connection (and an SQLite read snapshot) for the hour it may take.
    get_session().commit()


def live_context() -> dict[str, object]:
    """Give templates the organisation's current name in the page's language."""
    live = g.get("live_settings")
    return {"organisation": live.organisation_for(str(get_locale()))} if live else {}


def refuse_new_work_on_a_full_disk() -> None:
    """Refuse new testimony while free space is under the floor; stored data is untouched."""
    if request.endpoint in NEW_WORK_ENDPOINTS:
        desk = get_desk()
        if desk.store.free_bytes() < get_uploads().disk_floor:
            raise StorageFull


def purge_expired_counters_once() -> None:
    """On a worker's first request, delete attempt counters left from past minutes."""
    if not current_app.extensions.get("intake.counters_purged"):
        # On a database too busy for it, a later request does it.
        with unless_busy():
            purge_expired(get_session())
            get_session().commit()
            current_app.extensions["intake.counters_purged"] = True


def discard_unfinished_uploads(_exc: BaseException | None = None) -> None:
    """Remove pending blobs of a request that did not store its submission."""
    batch = getattr(request, "upload_batch", None)
    if batch is not None:
        batch.discard()


def init_app(app: Flask, settings: Settings) -> None:
    """Make file parts stream into encrypted blobs; never into plaintext temp files."""
    store = Store(settings.instance_path / "store")
    app.request_class = EncryptingRequest
    desk = Desk(Keyring(settings.keys_dir), store, settings.desk_id, settings.pepper,
                settings.code_profile, settings.root, high_water(settings.instance_path),
                dict(settings.desk_roots))
    uploads = Uploads(store, UPLOAD_ENDPOINTS, settings.max_upload_bytes, settings.max_files,
                      settings.disk_floor_bytes)
    # Half the cores, so that code checks never crowd out testimony being stored.
    bind_desk(app, desk, uploads, WorkGate(max(1, (os.cpu_count() or 2) // 2),
                                           CODE_CHECK_WAIT_SECONDS))
    app.before_request(purge_expired_counters_once)
    app.before_request(apply_live_settings)
    app.before_request(refuse_new_work_on_a_full_disk)
    app.context_processor(live_context)
    app.teardown_request(discard_unfinished_uploads)
