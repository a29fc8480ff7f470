"""A simulated phone network: calls ring, are answered or not, talk, and end.

Its state lives in the database (tables sim_calls and sim_call_steps), the way a real provider
keeps its state on its own servers: a call placed by one process is still reported by the
others if that process dies. Placing a call draws its outcome and timeline from a seeded random
generator keyed by the idempotency key, so the same seed gives the same run. A pump delivers
each step when it falls due, through the same sink real provider webhooks use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls.ended_reasons import require_known
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.settings import Settings
from campaign_service.telephony import simulated_repository as store
from campaign_service.telephony.base import (
    NoCapacity,
    PlaceCallRequest,
    StatusReport,
    StatusReportSink,
)
from campaign_service.timeutil import Clock

log = logging.getLogger(__name__)

# How each outcome unfolds: answered calls ring, talk and end; the others end while ringing.
ANSWERED = frozenset(
    {"customer-ended-call", "assistant-ended-call", "silence-timed-out", "voicemail"}
)
NEVER_RINGS = frozenset(
    {"customer-busy", "call.in-progress.error-sip-outbound-call-failed-to-connect"}
)

DEFAULT_OUTCOMES: dict[str, float] = {
    "customer-ended-call": 35,
    "assistant-ended-call": 25,
    "voicemail": 15,
    "customer-did-not-answer": 12,
    "customer-busy": 6,
    "silence-timed-out": 3,
    "call.in-progress.error-sip-outbound-call-failed-to-connect": 4,
}

PRESETS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    # (ring seconds, talk seconds)
    "demo": ((0.3, 1.0), (1.0, 3.0)),
    "standard": ((2.0, 6.0), (8.0, 40.0)),
    "realistic": ((5.0, 25.0), (30.0, 240.0)),
}


@dataclass(frozen=True)
class SimulationConfig:
    ring_seconds: tuple[float, float]
    talk_seconds: tuple[float, float]
    outcomes: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_OUTCOMES))
    seed: int | None = None
    dial_latency_seconds: float = 0.0
    max_active_calls: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SimulationConfig:
        ring, talk = PRESETS[settings.sim_preset]
        outcomes = settings.sim_outcomes or DEFAULT_OUTCOMES
        for reason in outcomes:
            require_known(reason)
        return cls(
            ring_seconds=settings.sim_ring_seconds or ring,
            talk_seconds=settings.sim_talk_seconds or talk,
            outcomes=dict(outcomes),
            seed=settings.sim_seed,
            dial_latency_seconds=settings.sim_dial_latency_seconds,
            max_active_calls=settings.sim_max_active_calls,
        )


def plan_call(
    config: SimulationConfig, key: str, start: datetime
) -> tuple[str, list[tuple[CallStatus, str | None, datetime]]]:
    """The outcome and timeline of one call, fixed by the seed and the idempotency key."""
    rng = random.Random(f"{config.seed}:{key}") if config.seed is not None else random.Random()
    reasons = list(config.outcomes)
    outcome = rng.choices(reasons, weights=[config.outcomes[r] for r in reasons])[0]
    ring = rng.uniform(*config.ring_seconds)
    talk = rng.uniform(*config.talk_seconds)
    at = start + timedelta(seconds=rng.uniform(0.05, 0.3))
    if outcome in NEVER_RINGS:
        return outcome, [(CallStatus.ENDED, outcome, at + timedelta(seconds=ring / 4))]
    steps: list[tuple[CallStatus, str | None, datetime]] = [(CallStatus.RINGING, None, at)]
    at += timedelta(seconds=ring)
    if outcome in ANSWERED:
        steps.append((CallStatus.IN_PROGRESS, None, at))
        at += timedelta(seconds=talk / 3 if outcome == "voicemail" else talk)
    steps.append((CallStatus.ENDED, outcome, at))
    return outcome, steps


class SimulatedProvider:
    """The default provider: a fake phone network whose calls live in PostgreSQL."""

    name = "simulated"

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        config: SimulationConfig,
        clock: Clock,
        max_poll_seconds: float = 0.25,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.clock = clock
        self.max_poll_seconds = max_poll_seconds
        self._pump: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def place_call(self, request: PlaceCallRequest) -> str:
        now = self.clock()  # the request is sent now; the network answers after its latency
        if self.config.dial_latency_seconds:
            await asyncio.sleep(self.config.dial_latency_seconds)
        key = request.idempotency_key
        async with unit_of_work(self.sessions) as session:
            # A repeated request (the engine recovering a lease) returns the same call.
            existing = await store.repeat_request(session, key=key)
            if existing is not None:
                return existing
            if self.config.max_active_calls is not None:
                active = await store.active_calls_locked(session)
                if active >= self.config.max_active_calls:
                    raise NoCapacity(f"simulated network is carrying {active} calls")
            provider_call_id = f"sim-{uuid.uuid4()}"
            outcome, steps = plan_call(self.config, key, self.clock())
            if not await store.insert_call(
                session,
                provider_call_id=provider_call_id,
                key=key,
                call_id=request.call_id,
                attempt=request.attempt,
                outcome=outcome,
                steps=steps,
                now=now,
            ):  # a concurrent request with the same key won
                existing = await store.repeat_request(session, key=key)
                assert existing is not None
                return existing
        return provider_call_id

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        async with self.sessions() as session:
            return await store.find_by_key(session, key=request.idempotency_key)

    async def deliver_due(self, sink: StatusReportSink, *, limit: int = 500) -> int:
        """Report every step that is due; returns how many were delivered."""
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            steps = await store.due_steps(session, now=now, limit=limit)
            if not steps:
                return 0
            reports = [
                StatusReport(
                    call_id=s.call_id,
                    status=CallStatus(s.status),
                    ended_reason=s.ended_reason,
                    provider_call_id=s.provider_call_id,
                    occurred_at=s.due_at,
                )
                for s in steps
            ]
            # At-least-once, like a webhook: the engine applies the reports (its own
            # transaction) before the steps are marked delivered; a crash in between redelivers
            # them, and the engine ignores the duplicates.
            await sink(reports)
            await store.mark_delivered(session, steps, now=now)
        return len(steps)

    async def seconds_until_next_step(self) -> float | None:
        async with self.sessions() as session:
            due = await store.next_due(session)
        if due is None:
            return None
        return max(0.0, (due - self.clock()).total_seconds())

    async def start(self, sink: StatusReportSink) -> None:
        self._stop.clear()
        self._pump = asyncio.create_task(self._run_pump(sink), name="simulated-provider-pump")

    async def stop(self) -> None:
        self._stop.set()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    async def _run_pump(self, sink: StatusReportSink) -> None:
        while not self._stop.is_set():
            try:
                if await self.deliver_due(sink):
                    continue
                wait = await self.seconds_until_next_step()
            except Exception:
                log.exception("simulated provider pump failed; retrying")
                wait = 1.0
            timeout = self.max_poll_seconds if wait is None else min(wait, self.max_poll_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(timeout, 0.01))
