"""Statements the read path sends straight to asyncpg, on a connection from the engine's pool.

SQLAlchemy's execution layer costs ~80 µs of CPU per statement here (its context, cursor
and result objects), a quarter of a page read's whole CPU. The read path's statements are
plain text with `$n` parameters already, so they skip that layer; errors do not: they are
raised as SQLAlchemy raises them (`DBAPIError`), so the API's database error handling (503
when the database cannot be reached) applies unchanged, and a connection an error left broken
is thrown away instead of going back to the pool.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_service.db.availability import connection_broken


async def fetch_row(conn: AsyncConnection, sql: str, *args: Any) -> Any:
    """The first row `sql` answers (an asyncpg Record: columns by name or position)."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None, "a connection checked out of the pool has its driver's"
    try:
        return await driver.fetchrow(sql, *args)
    except (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        OSError,
    ) as exc:
        broken = connection_broken(exc)
        if broken:
            await conn.invalidate()
        raise sa_exc.DBAPIError(sql, args, exc, connection_invalidated=broken) from exc
