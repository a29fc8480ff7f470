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
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls.ended_reasons import ENDED_REASONS
from campaign_service.calls.status import CallStatus, is_forward
from campaign_service.fakevapi import (
    FakeOrg,
    FakeVapiConfig,
    RunningFakeVapi,
    Timings,
    run_fake_vapi,
)
from campaign_service.settings import Settings
from campaign_service.telephony.base import NoCapacity, PlaceCallRequest, StatusReport
from campaign_service.telephony.instant import InstantProvider
from campaign_service.telephony.simulated import SimulatedProvider, SimulationConfig
from campaign_service.telephony.vapi import OrgVapi, VapiProvider
from campaign_service.timeutil import utcnow
from tests.conftest import FakeClock

PROVIDERS = ["instant", "simulated", "vapi"]
VAPI_KEY = "conformance-key"


class EngineLikeVapi:
    """The Vapi provider as the engine drives it: a repeated attempt at a call carries the
    start of its first attempt (`previous_attempt_at`, from the call's `last_attempt_at`), and
    what Vapi says afterwards is learned by asking it (the reconciler's `poll_call`)."""

    def __init__(self, fake: RunningFakeVapi) -> None:
        self.fake = fake
        # Its clock runs a minute ahead: a repeated attempt comes after the first one can no
        # longer be in flight (before that, the provider waits; tests/vapi covers it).
        self.provider = VapiProvider(
            settings=Settings(),
            credentials=self._credentials,
            clock=lambda: utcnow() + timedelta(minutes=1),
        )
        self.first_attempt: dict[str, datetime] = {}
        self.placed: dict[uuid.UUID, str] = {}
        self.last_status: dict[uuid.UUID, CallStatus] = {}

    async def _credentials(self, org_id: uuid.UUID) -> OrgVapi:
        return OrgVapi(api_key=VAPI_KEY, base_url=self.fake.url)

    def _as_engine_sends(self, request: PlaceCallRequest) -> PlaceCallRequest:
        first = self.first_attempt.get(request.idempotency_key)
        if first is None:
            self.first_attempt[request.idempotency_key] = utcnow()
            return request
        return replace(request, previous_attempt_at=first)

    async def start(self, sink: Any) -> None:
        return None

    async def stop(self) -> None:
        await self.provider.stop()

    async def place_call(self, request: PlaceCallRequest) -> str:
        try:
            provider_call_id = await self.provider.place_call(self._as_engine_sends(request))
        except NoCapacity:
            # Nothing was placed: the engine forgets the attempt (release clears it).
            self.first_attempt.pop(request.idempotency_key, None)
            raise
        self.placed[request.call_id] = provider_call_id
        return provider_call_id

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        if request.idempotency_key not in self.first_attempt:
            return None  # the engine never made an attempt: nothing to look for
        first = self.first_attempt[request.idempotency_key]
        return await self.provider.find_call(replace(request, previous_attempt_at=first))

    async def poll(self, sink: Any) -> None:
        """Ask about every placed call; pass on what changed (the engine drops repeats)."""
        for call_id, provider_call_id in self.placed.items():
            last = self.last_status.get(call_id)
            if last is CallStatus.ENDED:
                continue
            report = await self.provider.poll_call(uuid.uuid4(), call_id, provider_call_id)
            if report is not None and report.status is not last:
                self.last_status[call_id] = report.status
                await sink([report])

    def dials(self, request: PlaceCallRequest) -> int:
        calls = self.fake.fake.record().calls
        return sum(1 for c in calls if c["callId"] == str(request.call_id) and not c["blocked"])


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
        elif isinstance(self.provider, EngineLikeVapi):
            for _ in range(20):
                await asyncio.sleep(0.05)
                await self.provider.poll(self.sink)
        else:
            for _ in range(50):
                await asyncio.sleep(0.01)

    async def dials(self, request: PlaceCallRequest) -> int:
        """How many calls the network really made for this request's key."""
        if isinstance(self.provider, InstantProvider):
            return 1 if request.idempotency_key in self.provider.placed else 0
        if isinstance(self.provider, EngineLikeVapi):
            return self.provider.dials(request)
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
    fakes = ExitStack()

    async def factory(*, capacity: int | None = None) -> Harness:
        if request.param == "instant":
            harness = Harness(InstantProvider(max_active_calls=capacity))
        elif request.param == "vapi":
            config = FakeVapiConfig(
                orgs=(FakeOrg(VAPI_KEY, concurrency_limit=capacity or 100),),
                timings=Timings(
                    queued_seconds=0.01, ring_seconds=(0.01, 0.02), talk_seconds=(0.01, 0.05)
                ),
                seed=3,
            )
            harness = Harness(EngineLikeVapi(fakes.enter_context(run_fake_vapi(config))))
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
    fakes.close()


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
