"""A throwaway database for a benchmark run: created on the configured server (DATABASE_URL,
or the embedded PostgreSQL), brought to head by the migrations, dropped afterwards."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.cli import database_url
from campaign_service.db.migrate import upgrade_to_head
from campaign_service.db.session import async_url
from campaign_service.settings import Settings


async def _admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(async_url(server_url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@contextmanager
def scratch_database(prefix: str = "cs_bench") -> Iterator[str]:
    server = make_url(database_url(Settings()))
    server_url = server.render_as_string(hide_password=False)
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
