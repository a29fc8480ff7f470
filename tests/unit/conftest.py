"""Unit tests need no database: the suite-wide table cleanup is switched off here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_tables() -> None:
    """Overrides tests/conftest.py's fixture of the same name (no database for unit tests)."""
