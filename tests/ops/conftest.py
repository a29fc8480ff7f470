"""Helpers for the operational tests: free ports, extra databases, a real HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from campaign_service.api.app import create_app
from campaign_service.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LiveServer:
    base_url: str


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The real app behind uvicorn on a free localhost port, in a background thread."""
    with serving(Settings(), database_url) as server:
        yield server


@contextmanager
def serving(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    """The app built with `settings` behind uvicorn on a free localhost port."""
    with served(create_app(settings, database_url=database_url)) as server:
        yield server


@contextmanager
def served(app: Any, *, stop_seconds: float = 10) -> Iterator[LiveServer]:
    """`app` behind uvicorn on a free localhost port, in a background thread."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=stop_seconds)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes a minute or more; runs by default")
