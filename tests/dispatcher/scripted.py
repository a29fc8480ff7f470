"""A telephony fake whose every outcome the test decides: it records each dial (which call,
which number, when) and the test ends calls with the reasons it wants, through the engine's
own status-report path. Dials are idempotent per call ID, like a real provider's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaign_service.calls.status import CallStatus
from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.telephony.base import (
    CallRejected,
    NoCapacity,
    PlaceCallRequest,
    StatusReport,
    StatusReportSink,
)
from tests.conftest import FakeClock


@dataclass(frozen=True)
class Dial:
    call_id: uuid.UUID
    number: str
    at: datetime
    campaign_id: uuid.UUID


class ScriptedNetwork:
    name = "scripted"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.dials: list[Dial] = []
        self.no_capacity = False
        self.reject_with: str | None = None

    async def start(self, sink: StatusReportSink) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def place_call(self, request: PlaceCallRequest) -> str:
        if self.no_capacity:
            raise NoCapacity("scripted: no capacity")
        if self.reject_with is not None:
            raise CallRejected(self.reject_with)
        if request.call_id not in {d.call_id for d in self.dials}:
            number = str(request.customer.get("number"))
            self.dials.append(Dial(request.call_id, number, self.clock(), request.campaign_id))
        return f"scripted-{request.call_id}"

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        known = request.call_id in {d.call_id for d in self.dials}
        return f"scripted-{request.call_id}" if known else None

    def numbers(self) -> list[str]:
        return [d.number for d in self.dials]


async def end_calls(
    dispatcher: Dispatcher, call_ids: Sequence[uuid.UUID | str], reason: str
) -> None:
    """The network reports these calls answered-or-not and ended with `reason`."""
    await dispatcher.events.apply(
        [StatusReport(uuid.UUID(str(c)), CallStatus.ENDED, ended_reason=reason) for c in call_ids]
    )


async def answer(dispatcher: Dispatcher, call_ids: Sequence[uuid.UUID | str]) -> None:
    await dispatcher.events.apply(
        [StatusReport(uuid.UUID(str(c)), CallStatus.IN_PROGRESS) for c in call_ids]
    )
