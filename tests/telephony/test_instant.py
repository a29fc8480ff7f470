"""The benchmark provider's request latency (`CAMPAIGN_SERVICE_INSTANT_PLACE_SECONDS`)."""

from __future__ import annotations

import asyncio
import time
import uuid

from campaign_service.calls.status import CallStatus
from campaign_service.settings import Settings
from campaign_service.telephony.base import PlaceCallRequest, StatusReport
from campaign_service.telephony.factory import build_default_provider


def _request() -> PlaceCallRequest:
    call_id = uuid.uuid4()
    return PlaceCallRequest(
        idempotency_key=str(call_id),
        call_id=call_id,
        campaign_id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        phone_number_id="pn_1",
        customer={"number": "+14155550100"},
        assistant_id="asst_1",
    )


async def test_placing_takes_the_configured_latency_and_requests_overlap(monkeypatch):
    monkeypatch.setenv("CAMPAIGN_SERVICE_PROVIDER", "instant")
    monkeypatch.setenv("CAMPAIGN_SERVICE_INSTANT_PLACE_SECONDS", "0.2")
    provider = build_default_provider(Settings(), sessions=None, clock=None)  # type: ignore[arg-type]
    reports: list[StatusReport] = []

    async def sink(batch):
        reports.extend(batch)

    await provider.start(sink)
    try:
        started = time.monotonic()
        ids = await asyncio.gather(*(provider.place_call(_request()) for _ in range(10)))
        elapsed = time.monotonic() - started
        assert len(set(ids)) == 10
        assert elapsed >= 0.2  # each request waited its latency...
        assert elapsed < 1.0  # ...at the same time as the others (one after another: 2 s)
        for _ in range(100):
            if len(reports) == 20:
                break
            await asyncio.sleep(0.01)
        assert sorted(r.status for r in reports).count(CallStatus.ENDED) == 10
    finally:
        await provider.stop()
