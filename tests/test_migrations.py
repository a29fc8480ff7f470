"""The migrations are the only way the schema is made: they must match the models exactly,
and they must go down to nothing and back up again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from campaign_service.db import models  # noqa: F401  (registers every table)
from campaign_service.db.base import Base
from campaign_service.db.migrate import alembic_config, head_revision, upgrade_to_head
from campaign_service.db.session import async_url


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_do_not_drift(engine: AsyncEngine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], "autogenerate would change the schema:\n" + "\n".join(map(str, diff))


async def test_drift_check_notices_a_difference(engine: AsyncEngine):
    """The comparison above is live: a column the models lack is reported."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text("ALTER TABLE orgs ADD COLUMN drift_probe integer"))
        diff = await conn.run_sync(_diff)
        await transaction.rollback()
    assert any("drift_probe" in str(entry) for entry in diff), diff


@pytest.fixture
def scratch_url(empty_database: Callable[[], str]) -> str:
    """An empty database of its own on the test server, dropped afterwards."""
    return empty_database()


def _schema(url: str) -> tuple[str | None, dict[str, list[str]]]:
    """The alembic revision and, per table, its columns."""

    async def read() -> tuple[str | None, dict[str, list[str]]]:
        scratch = create_async_engine(async_url(url))
        try:
            async with scratch.connect() as conn:

                def tables(sync: Connection) -> dict[str, list[str]]:
                    inspector = inspect(sync)
                    return {
                        t: sorted(c["name"] for c in inspector.get_columns(t))
                        for t in inspector.get_table_names()
                        if t != "alembic_version"
                    }

                shape = await conn.run_sync(tables)
                version = None
                if await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
                    version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
                return version, shape
        finally:
            await scratch.dispose()

    return asyncio.run(read())


def test_downgrade_to_base_and_upgrade_again(scratch_url: str):
    upgrade_to_head(scratch_url)
    head, at_head = _schema(scratch_url)
    assert head == head_revision()
    assert set(at_head) == set(Base.metadata.tables)

    config = alembic_config(scratch_url)
    command.downgrade(config, "base")
    version, empty = _schema(scratch_url)
    assert version is None
    assert empty == {}

    upgrade_to_head(scratch_url)
    assert _schema(scratch_url) == (head, at_head)


def test_every_revision_steps_down_and_up(scratch_url: str):
    """Each revision's downgrade undoes exactly its upgrade."""
    config = alembic_config(scratch_url)
    revisions = [
        r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]
    assert revisions[-1] == head_revision()
    for revision in revisions:
        command.upgrade(config, revision)
        before = _schema(scratch_url)
        command.downgrade(config, "-1")
        command.upgrade(config, revision)
        assert _schema(scratch_url) == before, revision
