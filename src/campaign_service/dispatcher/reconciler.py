"""The reconciler: follow placed calls at the provider when its reports do not come.

Webhooks get lost (a laptop has no public URL; a delivery fails). Every `vapi_poll_interval`
the reconciler takes a batch of placed, not-ended calls not heard of for
`vapi_poll_quiet_seconds` (stamping them polled, so dispatchers share the work), asks the
provider about each (`GET /call/{id}`, paced by the per-org rate limit), and applies what it
learns through the one status-report path. With webhooks off, campaigns still end, later.

A call the provider never reports ended is ended `vapi_silent_call_seconds` after it was
placed, with endedReason `call.in-progress.error-vapifault-worker-died` (Vapi's reason for a
call whose worker was lost), so no campaign can hang in progress for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls import repository as calls
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.settings import Settings
from campaign_service.telephony.base import StatusReport, StatusReportSink
from campaign_service.timeutil import Clock

log = logging.getLogger(__name__)

SILENT_CALL_REASON = "call.in-progress.error-vapifault-worker-died"
POLLED_PROVIDERS = ("vapi",)


class Pollable(Protocol):
    async def poll_call(
        self, org_id: uuid.UUID, call_id: uuid.UUID, provider_call_id: str
    ) -> StatusReport | None: ...


class Reconciler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        provider: Pollable,
        sink: StatusReportSink,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.sink = sink
        self.settings = settings
        self.clock = clock

    async def pass_once(self) -> int:
        """One batch; returns how many calls were asked about."""
        now = self.clock()
        quiet = now - timedelta(seconds=self.settings.vapi_poll_quiet_seconds)
        async with unit_of_work(self.sessions) as session:
            due = await calls.take_calls_to_poll(
                session,
                providers=POLLED_PROVIDERS,
                quiet_since=quiet,
                now=now,
                limit=self.settings.vapi_poll_batch,
            )
        if not due:
            return 0
        found = await asyncio.gather(*(self._ask(call) for call in due))
        reports = [r for r in found if r is not None]
        reports += self._silent(due, found, now)
        await self.sink(reports)
        return len(due)

    async def _ask(self, call: calls.PolledCall) -> StatusReport | None:
        try:
            return await self.provider.poll_call(call.org_id, call.call_id, call.provider_call_id)
        except Exception:
            log.exception("asking about call %s failed; asking again later", call.call_id)
            return None

    def _silent(
        self,
        due: Sequence[calls.PolledCall],
        found: Sequence[StatusReport | None],
        now: datetime,
    ) -> list[StatusReport]:
        limit = timedelta(seconds=self.settings.vapi_silent_call_seconds)
        silent = []
        for call, report in zip(due, found, strict=True):
            if report is not None and report.status is CallStatus.ENDED:
                continue
            if call.placed_at is not None and now - call.placed_at >= limit:
                log.warning("call %s: no end reported since %s; ending it", call.call_id, now)
                silent.append(
                    StatusReport(call.call_id, CallStatus.ENDED, ended_reason=SILENT_CALL_REASON)
                )
        return silent

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.pass_once()
            except Exception:
                log.exception("reconciler pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.settings.vapi_poll_interval)


def start(
    *,
    sessions: async_sessionmaker[AsyncSession],
    provider: object,
    sink: StatusReportSink,
    settings: Settings,
    clock: Clock,
    stopping: asyncio.Event,
) -> asyncio.Task[None] | None:
    """Run a reconciler beside a dispatcher if its provider can be asked about calls."""
    if not callable(getattr(provider, "poll_call", None)):
        return None
    worker = Reconciler(
        sessions=sessions,
        provider=provider,  # type: ignore[arg-type]
        sink=sink,
        settings=settings,
        clock=clock,
    )
    return asyncio.create_task(worker.run(stopping), name="reconciler")
