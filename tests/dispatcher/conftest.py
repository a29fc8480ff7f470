"""Helpers for engine tests: dispatchers on the test database, driven by the fake clock."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.settings import Settings
from campaign_service.telephony.base import TelephonyProvider
from campaign_service.telephony.simulated import SimulatedProvider, SimulationConfig
from tests.conftest import FakeClock


def engine_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"dispatcher_lease_seconds": 30, "capacity_retry_seconds": 5}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def make_dispatcher(sessions: async_sessionmaker[AsyncSession], clock: FakeClock):  # type: ignore[no-untyped-def]
    """Dispatchers driven by hand: the simulated network's pump is not started (tests call
    `deliver_due` themselves, so nothing runs in the background on the fake clock)."""
    started: list[TelephonyProvider] = []

    async def factory(provider: TelephonyProvider, **overrides: Any) -> Dispatcher:
        dispatcher = Dispatcher(
            sessions=sessions,
            provider=provider,
            settings=engine_settings(**overrides),
            clock=clock,
        )
        if not isinstance(provider, SimulatedProvider):
            await provider.start(dispatcher.events)
            started.append(provider)
        return dispatcher

    yield factory
    for provider in started:
        await provider.stop()


@pytest.fixture
def simulated(sessions: async_sessionmaker[AsyncSession], clock: FakeClock):  # type: ignore[no-untyped-def]
    def factory(**config: Any) -> SimulatedProvider:
        values: dict[str, Any] = {
            "ring_seconds": (2.0, 4.0),
            "talk_seconds": (5.0, 20.0),
            "seed": 7,
        }
        values.update(config)
        return SimulatedProvider(sessions=sessions, config=SimulationConfig(**values), clock=clock)

    return factory


async def drive(
    dispatcher: Dispatcher,
    clock: FakeClock,
    done: Callable[[], Awaitable[bool]],
    *,
    provider: SimulatedProvider | None = None,
    step: float = 1.0,
    max_steps: int = 2000,
    each_step: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Tick, deliver the simulated network's due events and move the clock until `done`."""
    for steps in range(max_steps):
        await dispatcher.tick()
        if provider is not None:
            await provider.deliver_due(dispatcher.events)
        if each_step is not None:
            await each_step()
        if await done():
            return steps
        clock.advance(seconds=step)
    raise AssertionError("the engine did not reach the expected state")


async def scalar(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return (await session.execute(text(sql), params)).scalar()


async def rows(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(text(sql), params)).all())


def stop_process(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, and SIGKILL if it has not stopped in 30 s: a worker left running would go on
    dispatching against the shared test database during later tests."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=30)
