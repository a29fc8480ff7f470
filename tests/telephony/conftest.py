"""The Vapi client tests run against the fake Vapi and need no database."""

from __future__ import annotations

# The fake's fixtures, and its override of the suite-wide table cleanup (no database here).
from tests.fakevapi.conftest import _clean_tables, inbox, start_fake

__all__ = ["_clean_tables", "inbox", "start_fake"]
