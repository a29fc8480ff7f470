"""A dispatcher's own connection (liveness lock and LISTEN) comes back after it is lost."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from campaign_service.db.liveness import LOCK_CLASS
from campaign_service.db.session import async_url, session_factory
from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.observability import metrics
from campaign_service.telephony.instant import InstantProvider
from campaign_service.timeutil import utcnow
from tests.conftest import campaign_body
from tests.dispatcher.conftest import engine_settings, scalar

HOLDERS = f"""
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND classid = {LOCK_CLASS} AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


async def _until(condition, seconds: float = 15.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_listen_and_liveness_come_back_after_the_connection_is_killed(
    client, org, sessions, engine: AsyncEngine, database_url
):
    own_engine = create_async_engine(async_url(database_url), pool_size=3)
    # Polling every 30 s: a campaign picked up quickly can only have been woken by a NOTIFY.
    dispatcher = Dispatcher(
        sessions=session_factory(own_engine),
        provider=InstantProvider(),
        settings=engine_settings(dispatcher_poll_interval=30),
        clock=utcnow,
    )
    task = asyncio.create_task(dispatcher.run(engine=own_engine))
    try:

        async def registered() -> bool:
            return dispatcher.presence is not None and dispatcher.presence.registered

        await _until(registered)
        first_owner = dispatcher.owner
        reconnects = metrics.DISPATCHER_RECONNECTS._value.get()
        async with engine.begin() as conn:
            killed = (
                await conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM ({HOLDERS}) h"))
            ).all()
        assert len(killed) == 1

        async def re_registered() -> bool:
            return dispatcher.owner not in (None, first_owner)

        await _until(re_registered)
        assert metrics.DISPATCHER_LISTENING._value.get() == 1
        assert metrics.DISPATCHER_RECONNECTS._value.get() == reconnects + 1

        await asyncio.sleep(1.5)  # past the pass the reconnection itself triggered
        await client.post("/campaigns", json=campaign_body(n=2), headers=org.headers)

        async def placed() -> bool:
            ended = "SELECT count(*) FROM calls WHERE status = 'ended'"
            return await scalar(sessions, ended) == 2

        assert await _until(placed, seconds=10) < 2  # a NOTIFY woke it, not the 30 s poll
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, timeout=30)
        await own_engine.dispose()
    assert metrics.DISPATCHER_LISTENING._value.get() == 0
