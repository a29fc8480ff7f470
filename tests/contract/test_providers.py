"""Provider conformance: the same tests run against every telephony provider.

What the engine relies on (telephony/base.py): placing is idempotent per key and never dials
twice; `find_call` answers without dialing; a call's reports only move forward and end with a
known endedReason; a provider at capacity says NoCapacity and takes calls again once a line
frees up. Each provider gets a small harness that drives its clock or waits for its tasks.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls.ended_reasons import ENDED_REASONS
from campaign_service.calls.status import CallStatus, is_forward
from campaign_service.telephony.base import NoCapacity, PlaceCallRequest, StatusReport
from campaign_service.telephony.instant import InstantProvider
from campaign_service.telephony.simulated import SimulatedProvider, SimulationConfig
from tests.conftest import FakeClock

PROVIDERS = ["instant", "simulated"]


@dataclass
class Harness:
    """A provider under test, its reports, and how to let time pass for it."""

    provider: Any
    reports: list[StatusReport] = field(default_factory=list)
    sessions: async_sessionmaker[AsyncSession] | None = None
    clock: FakeClock | None = None

    async def sink(self, reports: Sequence[StatusReport]) -> None:
        self.reports.extend(reports)

    async def let_time_pass(self, seconds: float = 120) -> None:
        if isinstance(self.provider, SimulatedProvider):
            assert self.clock is not None
            for _ in range(int(seconds)):
                self.clock.advance(seconds=1)
                await self.provider.deliver_due(self.sink)
        else:
            for _ in range(50):
                await asyncio.sleep(0.01)

    async def dials(self, request: PlaceCallRequest) -> int:
        """How many calls the network really made for this request's key."""
        if isinstance(self.provider, InstantProvider):
            return 1 if request.idempotency_key in self.provider.placed else 0
        assert self.sessions is not None
        async with self.sessions() as session:
            count = await session.execute(
                text("SELECT count(*) FROM sim_calls WHERE idempotency_key = :k"),
                {"k": request.idempotency_key},
            )
            return int(count.scalar_one())


@pytest.fixture(params=PROVIDERS)
async def make_harness(
    request: pytest.FixtureRequest, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> AsyncIterator[Any]:
    started: list[Harness] = []

    async def factory(*, capacity: int | None = None) -> Harness:
        if request.param == "instant":
            harness = Harness(InstantProvider(max_active_calls=capacity))
        else:
            config = SimulationConfig(
                ring_seconds=(1, 2), talk_seconds=(2, 5), seed=3, max_active_calls=capacity
            )
            provider = SimulatedProvider(sessions=sessions, config=config, clock=clock)
            harness = Harness(provider, sessions=sessions, clock=clock)
        if not isinstance(harness.provider, SimulatedProvider):  # its pump runs on real time
            await harness.provider.start(harness.sink)
        started.append(harness)
        return harness

    yield factory
    for harness in started:
        await harness.provider.stop()


def place_request(**changes: Any) -> PlaceCallRequest:
    call_id = uuid.uuid4()
    values: dict[str, Any] = {
        "idempotency_key": str(call_id),
        "call_id": call_id,
        "campaign_id": uuid.uuid4(),
        "org_id": uuid.uuid4(),
        "phone_number_id": "pn_1",
        "customer": {"number": "+14155550100"},
        "assistant_id": "asst_1",
    }
    values.update(changes)
    return PlaceCallRequest(**values)


async def test_placing_twice_with_one_key_dials_once(make_harness) -> None:
    harness = await make_harness()
    request = place_request()
    first = await harness.provider.place_call(request)
    second = await harness.provider.place_call(request)
    assert first == second
    assert await harness.dials(request) == 1
    other = place_request()
    assert await harness.provider.place_call(other) != first


async def test_find_call_answers_without_dialing(make_harness) -> None:
    harness = await make_harness()
    request = place_request()
    assert await harness.provider.find_call(request) is None
    assert await harness.dials(request) == 0
    provider_call_id = await harness.provider.place_call(request)
    assert await harness.provider.find_call(request) == provider_call_id
    assert await harness.dials(request) == 1


async def test_reports_move_forward_and_end_with_a_known_reason(make_harness) -> None:
    harness = await make_harness()
    requests = [place_request() for _ in range(8)]
    ids = {r.call_id: await harness.provider.place_call(r) for r in requests}
    await harness.let_time_pass()
    for request in requests:
        mine = [r for r in harness.reports if r.call_id == request.call_id]
        assert mine, "every placed call is reported on"
        statuses = [r.status for r in mine]
        assert all(is_forward(a, b) for a, b in itertools.pairwise(statuses))
        assert statuses[-1] is CallStatus.ENDED
        assert mine[-1].ended_reason in ENDED_REASONS
        assert {r.provider_call_id for r in mine} == {ids[request.call_id]}


async def test_at_capacity_the_provider_says_no_capacity_until_a_line_frees(
    make_harness,
) -> None:
    harness = await make_harness(capacity=2)
    busy = [place_request(), place_request()]
    for request in busy:
        await harness.provider.place_call(request)
    waiting = place_request()
    with pytest.raises(NoCapacity):
        await harness.provider.place_call(waiting)
    assert await harness.dials(waiting) == 0
    # A repeat of a call already placed is not a new dial, so it is answered even when full.
    assert await harness.provider.place_call(busy[0])
    await harness.let_time_pass()
    assert await harness.provider.place_call(waiting)
    assert await harness.dials(waiting) == 1
