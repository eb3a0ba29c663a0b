"""The audit log's hash chain holds when many requests write at once."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy.orm import Session

from intake import audit
from intake.models import AuditEvent


def test_concurrent_writers_all_land_on_one_unbroken_chain(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        for n in range(25):
            try:
                with Session(engine) as session:
                    audit.record(session, f"{worker:032x}", "view", f"case-{n}")
                    session.commit()
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engine) as session:
        assert session.query(AuditEvent).filter_by(action="view").count() == 100
        assert audit.first_broken(session) is None
