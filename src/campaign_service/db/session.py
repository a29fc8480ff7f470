"""Engine and session factory; the URL is normalised so both postgresql:// forms work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
) -> AsyncEngine:
    """A pooled engine that checks a connection before lending it (pre-ping) and discards
    connections an error left broken. `application_name` names its connections in
    pg_stat_activity."""
    connect_args: dict[str, Any] = {}
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    if application_name is not None:
        connect_args["server_settings"] = {"application_name": application_name}
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )
    discard_broken_connections(engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    async with factory() as session, session.begin():
        yield session
