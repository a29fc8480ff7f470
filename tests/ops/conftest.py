"""Helpers for the operational tests: free ports, extra databases, a real HTTP server."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.api.app import create_app
from campaign_service.db.session import async_url
from campaign_service.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _admin(server_url: str, sql: str) -> None:
    async def run() -> None:
        engine = create_async_engine(async_url(server_url), isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    # A helper thread: this may be called from inside the tests' running event loop.
    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join()


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Callable[[], str]]:
    """Factory: a new database with no tables on the test server; dropped after the test."""
    server = make_url(database_url)
    names: list[str] = []

    def create() -> str:
        name = f"cs_ops_{secrets.token_hex(4)}"
        _admin(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
        names.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield create
    for name in names:
        _admin(
            server.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )


@dataclass(frozen=True)
class LiveServer:
    base_url: str


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The real app behind uvicorn on a free localhost port, in a background thread."""
    port = free_port()
    app = create_app(Settings(), database_url=database_url)
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
    thread.join(timeout=10)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes a minute or more; runs by default")
