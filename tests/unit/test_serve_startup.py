"""`serve` takes the objects built at start-up out of the garbage collector's full walks."""

from __future__ import annotations

import argparse
import gc
from typing import Any

import pytest
import uvicorn

from campaign_service import cli
from campaign_service.api import app as app_module
from campaign_service.settings import Settings


def test_serve_freezes_the_startup_objects_before_serving(monkeypatch: pytest.MonkeyPatch):
    seen: dict[str, Any] = {}

    def run(app: Any, **_: Any) -> None:
        seen["app"] = app
        seen["frozen"] = gc.get_freeze_count()
        seen["app_frozen"] = all(tracked is not app for tracked in gc.get_objects())

    monkeypatch.setattr(cli, "database_url", lambda settings: "postgresql://unused/db")
    monkeypatch.setattr(cli, "upgrade_to_head", lambda url: None)
    monkeypatch.setattr(app_module, "create_app", lambda *a, **k: object.__new__(_App))
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(cli.signal, "signal", lambda *a: None)
    gc.unfreeze()
    try:
        args = argparse.Namespace(no_dispatcher=True, host="127.0.0.1", port=0)
        cli.cmd_serve(args, Settings())
    finally:
        gc.unfreeze()
    assert seen["frozen"] > 0
    # The app itself is in the permanent generation: no collection walks it again.
    assert seen["app_frozen"]


class _App:
    """Stands for the built app (a tracked object, as the real one is)."""
