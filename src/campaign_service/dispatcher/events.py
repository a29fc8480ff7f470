"""The engine's side of provider status reports: apply them in batches, one transaction each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls import repository as calls
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.observability import metrics
from campaign_service.telephony.base import StatusReport
from campaign_service.timeutil import Clock

log = logging.getLogger(__name__)


class StatusReportRecorder:
    """A `StatusReportSink`. Deliveries that arrive while a batch is being written are grouped
    into the next one (group commit), so a burst of reports costs a few transactions."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        source: str,
        max_batch: int = 1000,
        on_ended: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        # Called once a batch that ended calls has committed: the dispatcher of this process
        # claims the freed slots at once, without waiting for its NOTIFY to come back.
        self.on_ended = on_ended
        self.clock = clock
        self.source = source
        self.max_batch = max_batch
        self._pending: list[tuple[Sequence[StatusReport], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, reports: Sequence[StatusReport]) -> None:
        if not reports:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((reports, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        while self._pending:
            batch: list[tuple[Sequence[StatusReport], asyncio.Future[None]]] = []
            size = 0
            while self._pending and size < self.max_batch:
                item = self._pending.pop(0)
                batch.append(item)
                size += len(item[0])
            try:
                await self.apply([r for reports, _ in batch for r in reports])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def apply(self, reports: Sequence[StatusReport]) -> int:
        """Apply reports in order in one transaction; returns how many changed a call."""
        async with unit_of_work(self.sessions) as session:
            changes = await calls.apply_status_reports(
                session, reports, source=self.source, now=self.clock()
            )
        ended = sum(1 for c in changes if c.to_status is CallStatus.ENDED)
        metrics.CALLS_ENDED.inc(ended)
        if ended and self.on_ended is not None:
            self.on_ended()
        return len(changes)
