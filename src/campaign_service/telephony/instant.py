"""A provider whose calls are answered at once and end after `hold_seconds` (default: at once).
Its request to place a call can be given a latency (`place_seconds`), as a network API has.

For benchmarks and tests of the engine itself. It keeps its state in memory, so unlike the
simulated provider it does not survive the process; it does honour idempotency keys, can be
given a capacity (`max_active_calls`), and records how many calls it carried at once, per
campaign and per org.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from campaign_service.calls.status import CallStatus
from campaign_service.telephony.base import (
    NoCapacity,
    PlaceCallRequest,
    StatusReport,
    StatusReportSink,
)


class InstantProvider:
    name = "instant"

    def __init__(
        self,
        *,
        hold_seconds: float = 0.0,
        place_seconds: float = 0.0,
        outcome: str = "customer-ended-call",
        max_active_calls: int | None = None,
    ) -> None:
        self.hold_seconds = hold_seconds
        self.place_seconds = place_seconds
        self.outcome = outcome
        self.max_active_calls = max_active_calls
        self.placed: dict[str, str] = {}
        self.dials = 0
        self.active_by_campaign: Counter[uuid.UUID] = Counter()
        self.active_by_org: Counter[uuid.UUID] = Counter()
        self.max_by_campaign: Counter[uuid.UUID] = Counter()
        self.max_by_org: Counter[uuid.UUID] = Counter()
        self._sink: StatusReportSink | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, sink: StatusReportSink) -> None:
        self._sink = sink

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def place_call(self, request: PlaceCallRequest) -> str:
        if self.place_seconds:
            await asyncio.sleep(self.place_seconds)
        existing = self.placed.get(request.idempotency_key)
        if existing is not None:
            return existing
        active = sum(self.active_by_org.values())
        if self.max_active_calls is not None and active >= self.max_active_calls:
            raise NoCapacity(f"carrying {active} calls")
        provider_call_id = f"instant-{uuid.uuid4()}"
        self.placed[request.idempotency_key] = provider_call_id
        self.dials += 1
        self._track(request, +1)
        task = asyncio.create_task(self._run_call(request, provider_call_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return provider_call_id

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        return self.placed.get(request.idempotency_key)

    def _track(self, request: PlaceCallRequest, delta: int) -> None:
        self.active_by_campaign[request.campaign_id] += delta
        self.active_by_org[request.org_id] += delta
        self.max_by_campaign[request.campaign_id] = max(
            self.max_by_campaign[request.campaign_id], self.active_by_campaign[request.campaign_id]
        )
        self.max_by_org[request.org_id] = max(
            self.max_by_org[request.org_id], self.active_by_org[request.org_id]
        )

    async def _run_call(self, request: PlaceCallRequest, provider_call_id: str) -> None:
        assert self._sink is not None, "start() the provider before placing calls"
        await asyncio.sleep(self.hold_seconds)
        # The call stops counting as active before the engine hears it ended, as on a real
        # network: the provider's view never shows more calls than the engine has in flight.
        self._track(request, -1)
        await self._sink(
            [
                StatusReport(
                    request.call_id, CallStatus.IN_PROGRESS, provider_call_id=provider_call_id
                ),
                StatusReport(
                    request.call_id,
                    CallStatus.ENDED,
                    ended_reason=self.outcome,
                    provider_call_id=provider_call_id,
                ),
            ]
        )
