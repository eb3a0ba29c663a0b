"""Wiring the encrypting request class, the blob store and the desk into the app."""

from __future__ import annotations

from flask import Flask, current_app, request

from .crypto import Keyring
from .errors import StorageFull
from .request import EncryptingRequest
from .settings import Settings
from .storage import Store
from .submissions import Desk

UPLOAD_ENDPOINTS = frozenset({"submit.submit", "followup.add"})
NEW_WORK_ENDPOINTS = UPLOAD_ENDPOINTS | {"submit.form"}


def refuse_new_work_on_a_full_disk() -> None:
    """Refuse new testimony while free space is under the floor; stored data is untouched."""
    if request.endpoint in NEW_WORK_ENDPOINTS:
        desk = current_app.extensions["intake.desk"]
        if desk.store.free_bytes() < current_app.extensions["intake.disk_floor"]:
            raise StorageFull


def discard_unfinished_uploads(_exc: BaseException | None = None) -> None:
    """Remove pending blobs of a request that did not store its submission."""
    batch = getattr(request, "upload_batch", None)
    if batch is not None:
        batch.discard()


def init_app(app: Flask, settings: Settings) -> None:
    """Make file parts stream into encrypted blobs; never into plaintext temp files."""
    store = Store(settings.instance_path / "store")
    app.request_class = EncryptingRequest
    app.extensions["intake.desk"] = Desk(Keyring(settings.keys_dir), store, settings.desk_id,
                                         settings.pepper, settings.code_profile)
    app.extensions["intake.uploads"] = {"store": store, "endpoints": UPLOAD_ENDPOINTS,
                                        "file_limit": settings.max_upload_bytes,
                                        "max_files": settings.max_files}
    app.extensions["intake.disk_floor"] = settings.disk_floor_bytes
    app.extensions["intake.followup_rate"] = settings.followup_attempts_per_minute
    app.before_request(refuse_new_work_on_a_full_disk)
    app.teardown_request(discard_unfinished_uploads)
