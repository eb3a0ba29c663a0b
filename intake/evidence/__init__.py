"""Evidence bundles: signed, optionally timestamped BagIt bags, verified offline.

Plain functions over bytes and streams; the web view and the command line only call them.
"""

from __future__ import annotations

from intake.evidence.bag import BagError
from intake.evidence.bundle import Header, Member, write_bundle
from intake.evidence.timestamp import TimestampError, request_token
from intake.evidence.verify import Verdict, render, verify_bundle

__all__ = ["BagError", "Header", "Member", "TimestampError", "Verdict", "render",
           "request_token", "verify_bundle", "write_bundle"]
