"""The fake Vapi tests need no database: the suite-wide table cleanup is switched off here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from campaign_service.fakevapi import RunningFakeVapi, run_fake_vapi
from tests.fakevapi.helpers import Inbox, config, running_inbox


@pytest.fixture(autouse=True)
def _clean_tables() -> None:
    """Overrides tests/conftest.py's fixture of the same name (no database here)."""


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as inbox:
        yield inbox


@pytest.fixture
def start_fake() -> Iterator[Callable[..., RunningFakeVapi]]:
    """Factory: a fake Vapi in a thread, configured like `helpers.config(**overrides)`."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> RunningFakeVapi:
            return stack.enter_context(run_fake_vapi(config(**overrides)))

        yield start
