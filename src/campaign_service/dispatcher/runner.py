"""Run a dispatcher as a background task (inside `serve`) or as the whole process (`worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.db.session import create_engine, session_factory
from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.settings import Settings
from campaign_service.telephony.factory import build_provider
from campaign_service.timeutil import Clock, utcnow

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def dispatcher_running(
    engine: AsyncEngine, settings: Settings, *, clock: Clock = utcnow
) -> AsyncIterator[Dispatcher]:
    """Start a dispatcher task on `engine`; on exit, let its current pass finish and stop."""
    sessions = session_factory(engine)
    dispatcher = Dispatcher(
        sessions=sessions,
        provider=build_provider(settings, sessions=sessions, clock=clock),
        settings=settings,
        clock=clock,
    )
    task = asyncio.create_task(dispatcher.run(engine=engine), name="dispatcher")
    log.info("dispatcher %s started (provider %s)", dispatcher.owner, dispatcher.provider.name)
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            task.cancel()
        log.info("dispatcher %s stopped", dispatcher.owner)


def dispatcher_engine(database_url: str, settings: Settings) -> AsyncEngine:
    """The dispatcher's own connections. Its transactions last milliseconds (no network call
    is made inside one), so one that sits idle comes from a frozen or hung process: the server
    ends it after `dispatcher_idle_transaction_seconds`, and the org claim lock and call rows
    it holds go back to the other dispatchers (the API's connections have no such limit: a
    slow client may hold a streamed export's transaction open)."""
    return create_engine(
        database_url,
        pool_size=settings.db_pool_size,
        application_name=f"campaign-service dispatch (pid {os.getpid()})",
        idle_transaction_seconds=settings.dispatcher_idle_transaction_seconds,
    )


@contextlib.asynccontextmanager
async def dispatcher_on_own_engine(
    database_url: str, settings: Settings
) -> AsyncIterator[Dispatcher]:
    """`dispatcher_running` on connections of its own (see `dispatcher_engine`): the
    `worker` command's, and `serve`'s beside the API's."""
    engine = dispatcher_engine(database_url, settings)
    try:
        async with dispatcher_running(engine, settings) as dispatcher:
            yield dispatcher
    finally:
        await engine.dispose()


async def run_worker(database_url: str, settings: Settings) -> None:
    """The `worker` command: dispatch until SIGTERM or SIGINT, then stop gracefully."""
    if settings.worker_metrics_port is not None:
        # A worker serves no API, so its engine counters get a small endpoint of their own.
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with dispatcher_on_own_engine(database_url, settings):
        await stop.wait()
        log.info("stop signal received; finishing the current pass")
