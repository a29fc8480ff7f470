"""Engine and session factory; the URL is normalised so both postgresql:// forms work."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from campaign_service.db.availability import discard_broken_connections


def async_url(url: str) -> URL:
    """Turn postgresql:// (or postgres://) into the asyncpg driver URL SQLAlchemy needs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
    query = dict(parsed.query)
    if "sslmode" in query:  # libpq spelling; asyncpg calls it ssl
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float | None = None,
    application_name: str | None = None,
    idle_transaction_seconds: float | None = None,
) -> AsyncEngine:
    """A pooled engine that discards connections an error left broken. `application_name`
    names its connections in pg_stat_activity; with `idle_transaction_seconds`, the server
    ends a session whose transaction sits idle that long (its locks are released, its work
    rolled back)."""
    # No ping on every checkout (a round trip per request): a connection the server dropped
    # fails its statement, is discarded, and the pool reconnects; the request answers
    # through the database fault handling (503).
    # No JIT compilation: the planner's cost estimate of a statement over many correlated
    # subqueries (a page of campaign bodies) passes jit_above_cost, and compiling it took
    # ~70 ms for a statement that runs in a few: these statements are short, and many.
    settings = {"jit": "off"}
    if application_name is not None:
        settings["application_name"] = application_name
    if idle_transaction_seconds:
        settings["idle_in_transaction_session_timeout"] = str(
            max(1, round(idle_transaction_seconds * 1000))
        )
    connect_args: dict[str, Any] = {"server_settings": settings}
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    # Up to twice `pool_size` connections, all kept once opened: a pool that closed its
    # overflow on return would open and close a connection (a new server process, its
    # caches cold, every statement prepared again) per request under a burst.
    engine = create_async_engine(
        async_url(url),
        pool_size=2 * pool_size,
        max_overflow=0,
        connect_args=connect_args,
        json_deserializer=json_loads,
    )
    discard_broken_connections(engine)
    return engine


# orjson turns integers beyond 64 bits into floats; the standard library keeps them exact.
_LONG_DIGITS = re.compile(r"\d{19}")


def json_loads(value: str) -> Any:
    """JSON and JSONB columns decoded by orjson (several times faster on every listed row);
    text with long digit runs (JSONB keeps integers of any size) by the standard library."""
    if _LONG_DIGITS.search(value):
        return json.loads(value)
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    async with factory() as session, session.begin():
        yield session
