"""A dispatcher's own connection: its liveness lock and its LISTEN for wake-ups.

While the connection is up, the dispatcher is registered (it holds a liveness lock, see
`db/liveness.py`, and its lease owner name carries that lock's number) and NOTIFYs wake it.
When the connection is lost (database restart, network, a terminated backend), the dispatcher
stops claiming new calls (its lock is gone, so the others may recover its leases), and the
connection is made again with backoff: a new number, a new lock, LISTEN again. Loss is noticed
by the driver's termination callback and by a ping every few seconds, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.db import liveness
from campaign_service.db.notify import DISPATCH_CHANNEL
from campaign_service.observability import metrics

log = logging.getLogger(__name__)

PING_SECONDS = 2.0
PING_TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = (0.2, 10.0)  # first retry, longest wait


class Presence:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        on_notify: Callable[[], None],
        on_payload: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_notify = on_notify
        self.on_payload = on_payload
        self.owner: str | None = None
        self._host, self._pid = socket.gethostname(), os.getpid()
        self._lost = asyncio.Event()

    @property
    def registered(self) -> bool:
        return self.owner is not None

    async def run(self, stopping: asyncio.Event) -> None:
        """Stay registered and listening until `stopping` is set, reconnecting when lost."""
        delay = BACKOFF_SECONDS[0]
        while not stopping.is_set():
            try:
                connection = await self._connect()
            except Exception:
                log.warning("dispatcher connection failed; retrying in %.1f s", delay)
                metrics.DISPATCHER_RECONNECTS.inc()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stopping.wait(), timeout=delay * random.uniform(0.8, 1.2)
                    )
                delay = min(delay * 2, BACKOFF_SECONDS[1])
                continue
            delay = BACKOFF_SECONDS[0]
            try:
                await self._watch(connection, stopping)
            finally:
                self._set_owner(None)
                with contextlib.suppress(Exception):
                    # A lost connection must not go back to the pool for someone else.
                    await (connection.close() if stopping.is_set() else connection.invalidate())
            if not stopping.is_set():
                log.warning("dispatcher connection lost; reconnecting")
                metrics.DISPATCHER_RECONNECTS.inc()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if self.on_payload is not None:
            self.on_payload(payload)
        self.on_notify()

    async def _connect(self) -> Any:
        connection = await self.engine.connect()
        try:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            self._lost.clear()
            driver.add_termination_listener(lambda *_: self._lost.set())
            owner = await liveness.register(driver, host=self._host, pid=self._pid)
            await driver.add_listener(DISPATCH_CHANNEL, self._heard)
        except BaseException:
            await connection.invalidate()
            raise
        self._set_owner(owner)
        log.info("dispatcher registered as %s and listening", self.owner)
        # Wake the loop: anything that happened while it could not hear is picked up now.
        self.on_notify()
        return connection

    async def _watch(self, connection: Any, stopping: asyncio.Event) -> None:
        """Return when the connection is lost or the dispatcher stops."""
        raw = await connection.get_raw_connection()
        while not stopping.is_set() and not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first_set(stopping, self._lost), timeout=PING_SECONDS)
            if stopping.is_set() or self._lost.is_set():
                break
            try:
                async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                    await liveness.ping(raw.driver_connection)
            except Exception:
                break

    def _set_owner(self, owner: str | None) -> None:
        self.owner = owner
        metrics.DISPATCHER_LISTENING.set(1 if owner else 0)


async def _first_set(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
