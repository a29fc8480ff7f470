"""Alembic environment: async engine, one advisory lock so concurrent replicas migrate once."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.db import models  # noqa: F401  (registers the tables)
from campaign_service.db.base import Base
from campaign_service.db.session import async_url

config = context.config
target_metadata = Base.metadata

# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK_KEY = 7_310_442_001


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL (or use `campaign-service migrate`)")
    return url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    # Two replicas starting together: the second waits here, then finds nothing to do.
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(async_url(_database_url()), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=str(async_url(_database_url())), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_online_in_thread() -> None:
    """Called from inside a running loop (tests): run the migrations in a helper thread."""
    import threading

    errors: list[BaseException] = []

    def _target() -> None:
        try:
            asyncio.run(_run_online())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=_target)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


# Decided outside any `except` block, so a failure to connect is not reported as happening
# "during handling of" the RuntimeError that get_running_loop raises when no loop runs.
if context.is_offline_mode():
    _run_offline()
elif _loop_running():
    _run_online_in_thread()
else:
    asyncio.run(_run_online())
