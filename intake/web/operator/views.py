"""The operator's page: the coalition's desks and the instance's health, no desk's content."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from intake.desk.instance import desk_states
from intake.web.bound import get_desk, get_settings, get_store, get_uploads
from intake.web.database import get_session
from intake.web.operator.blueprint import bp
from intake.web.staff_auth import operator_required

MIB = 1024 * 1024


@bp.get("")
@operator_required
def instance() -> ResponseReturnValue:
    """Show each desk's state and the free space against the floor (counts, never names)."""
    free, floor = get_store().free_bytes(), get_uploads().disk_floor
    return render_template("operator/instance.html",
                           states=desk_states(get_session(), get_desk().keyring, get_settings()),
                           free_mib=free // MIB, floor_mib=floor // MIB, low=free < floor)
