"""Statements the read path sends straight to asyncpg, on a connection from the engine's pool.

SQLAlchemy's execution layer costs ~80 µs of CPU per statement here (its context, cursor
and result objects), and checking a `Connection` out and back in ~80 µs more: together half
a page read's CPU. The read path's statements are plain text with `$n` parameters already,
so they skip both: `read_connection` checks the pooled connection out as it is and hands
over its asyncpg connection. Errors do not skip anything: they are raised as SQLAlchemy
raises them (`DBAPIError`), so the API's database error handling (503 when the database
cannot be reached) applies unchanged, and a connection an error left broken is thrown away
instead of going back to the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from campaign_service.db.availability import connection_broken


class ReadConnection:
    """A pooled connection, driven through its asyncpg connection (see `read_connection`)."""

    __slots__ = ("_driver", "_pooled")

    def __init__(self, pooled: PoolProxiedConnection) -> None:
        driver = pooled.driver_connection
        assert driver is not None, "a connection checked out of the pool has its driver's"
        self._pooled = pooled
        self._driver: Any = driver

    async def fetch_row(self, sql: str, *args: Any) -> Any:
        """The first row `sql` answers (an asyncpg Record: columns by name or position)."""
        try:
            return await self._driver.fetchrow(sql, *args)
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            OSError,
        ) as exc:
            broken = connection_broken(exc)
            if broken:
                # Closing it may talk to the server: done where SQLAlchemy can await.
                await greenlet_spawn(self._pooled.invalidate, exc)
            raise sa_exc.DBAPIError(sql, args, exc, connection_invalidated=broken) from exc


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[ReadConnection]:
    """A connection of the engine's pool for the read path's statements, back in the pool
    once the block ends. Without a transaction: a lone SELECT is one round trip."""
    try:
        pooled = await engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as exc:  # as `engine.connect()` would raise it
        raise sa_exc.DBAPIError(None, None, exc) from exc
    try:
        yield ReadConnection(pooled)
    finally:
        # Checking in resets the connection, which may have to await the server.
        await greenlet_spawn(pooled.close)
