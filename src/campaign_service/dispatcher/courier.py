"""The courier: delivers the outbox's campaign events to the campaigns' servers, after commit.

Each pass claims a batch of due events (their lease is their next attempt time, committed
before any POST), POSTs them concurrently with at most `events_receiver_concurrency` requests
open per receiver, then records every outcome in one statement. A failure is retried with the
campaign's `server.backoffPlan` (or the default: exponential from 1 s, at most 5 min apart)
until `events_retry_seconds` after the event was written; then the event is dead, with its
last error, and shows in the campaign's deliveries. A dead receiver costs one batch of
memory at most: the queue is the table.

Each POST carries the user's `server.headers`, the Standard Webhooks headers (`webhook-id` is
the event's stable id, so a receiver deduplicates redeliveries) and `{"message": payload}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.db.session import unit_of_work
from campaign_service.dispatcher.webhook_http import PostFailed, WebhookClient
from campaign_service.events import repository as outbox
from campaign_service.events import signing
from campaign_service.events.repository import Attempt, DueEvent
from campaign_service.settings import Settings
from campaign_service.timeutil import Clock

log = logging.getLogger(__name__)

DEFAULT_BASE_DELAY = 1.0
MAX_DELAY = 300.0
DEFAULT_TIMEOUT = 20.0


def next_attempt_at(
    event: DueEvent, *, status_code: int | None, now: datetime, settings: Settings
) -> datetime | None:
    """When to try again after a failed attempt; None when the event is dead."""
    plan = event.server.get("backoffPlan")
    plan = plan if isinstance(plan, dict) else {}
    excluded = plan.get("excludedStatusCodes") or []
    if status_code is not None and status_code in excluded:
        return None
    max_retries = plan.get("maxRetries")
    if isinstance(max_retries, int) and event.attempts > max_retries:
        return None
    base = plan.get("baseDelaySeconds")
    base = float(base) if isinstance(base, int | float) and base > 0 else DEFAULT_BASE_DELAY
    fixed = plan.get("type") == "fixed"
    delay = base if fixed else base * 2 ** min(event.attempts - 1, 20)
    at = now + timedelta(seconds=min(delay, MAX_DELAY))
    if at > event.created_at + timedelta(seconds=settings.events_retry_seconds):
        return None
    return at


def receiver_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Courier:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self._slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.events_receiver_concurrency)
        )
        self._http = WebhookClient()

    async def close(self) -> None:
        await self._http.close()

    async def deliver_once(self) -> int:
        """One batch: claim, POST, record. Returns how many events were attempted."""
        now = self.clock()
        lease_until = now + timedelta(seconds=self.settings.events_lease_seconds)
        async with unit_of_work(self.sessions) as session:
            due = await outbox.claim_due(
                session, now=now, lease_until=lease_until, limit=self.settings.events_batch_size
            )
        if not due:
            return 0
        attempts = await asyncio.gather(*(self._deliver(event) for event in due))
        async with unit_of_work(self.sessions) as session:
            await outbox.record_attempts(session, attempts, now=self.clock())
        return len(due)

    async def _deliver(self, event: DueEvent) -> Attempt:
        server = event.server
        url = server.get("url")
        if not isinstance(url, str):
            return Attempt(event.id, delivered=False, error="the campaign has no server.url")
        body = orjson.dumps({"message": event.payload})
        headers: dict[str, str] = {str(k): str(v) for k, v in (server.get("headers") or {}).items()}
        headers["content-type"] = "application/json"
        headers.update(
            signing.headers(event.secret, str(event.event_id), int(self.clock().timestamp()), body)
        )
        wanted = server.get("timeoutSeconds")
        timeout = float(wanted) if isinstance(wanted, int | float) else DEFAULT_TIMEOUT
        timeout = max(0.1, min(timeout, self.settings.events_lease_seconds / 2))
        code: int | None = None
        try:
            async with self._slots[receiver_of(url)]:
                code, _ = await self._http.post(url, body, headers, wait_seconds=timeout)
            if 200 <= code < 300:
                return Attempt(event.id, delivered=True, status_code=code)
            error = f"HTTP {code}"
        except PostFailed as exc:
            error = str(exc)
        retry_at = next_attempt_at(
            event, status_code=code, now=self.clock(), settings=self.settings
        )
        return Attempt(event.id, delivered=False, status_code=code, error=error, retry_at=retry_at)

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; a full batch goes on at once, else waits a poll."""
        try:
            while not stopping.is_set():
                try:
                    count = await self.deliver_once()
                except Exception:
                    log.exception("event delivery pass failed; retrying")
                    count = 0
                if count >= self.settings.events_batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.settings.events_poll_seconds)
        finally:
            await self.close()
