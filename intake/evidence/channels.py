"""Testimony received another way than the web form: by phone, in person, on paper.

A reviewer who takes such a testimony down records it through the same form
and the same code path as a family (sealed to the desk's current epoch,
files streamed through the file cipher). Its provenance (the channel, who
took it down, the day it was given) is kept inside the encrypted answers,
never in plaintext, and every bundle states it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

CHANNELS = {"phone": "by phone", "in_person": "in person", "paper": "on paper"}
WEB = "through the web form, by the family itself"


def provenance(channel: str, taken_by: str, taken_by_name: str, day: dt.date) -> dict[str, str]:
    """Describe how a testimony reached the desk, for storing inside its answers."""
    if channel not in CHANNELS:
        raise ValueError(f"a channel is one of {', '.join(CHANNELS)}")
    return {"channel": channel, "taken_by": taken_by, "taken_by_name": taken_by_name,
            "day": day.isoformat()}


def describe(answers: dict[str, Any]) -> str:
    """Say in one line how a testimony was received (for bag-info.txt and forms)."""
    found = answers.get("provenance")
    if not isinstance(found, dict) or found.get("channel") not in CHANNELS:
        return WEB
    return (f"{CHANNELS[found['channel']]}, taken down by {found.get('taken_by_name', '?')} "
            f"(account {found.get('taken_by', '?')}) on {found.get('day', '?')}")
