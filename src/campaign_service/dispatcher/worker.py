"""The dispatcher: a loop that starts campaigns, places calls and finishes campaigns.

One pass (`tick`) does, each step in its own short transaction:
  1. start campaigns whose time has come;
  2. give waiting calls their next stretch of calling hours, end calls whose capacity window
     closed, and pause campaigns whose breaker trips;
  3. claim calls (recovering expired leases first) under the concurrency limits;
  4. place the claimed calls with the provider, with no transaction open;
  5. record the outcomes (accepted, rejected, no capacity) in one transaction;
  6. finish campaigns whose calls have all ended.
Steps 1, 2, 6 and the lease recovery are "maintenance"; `run` does them in full passes of
their own, beside the quick passes (steps 3 to 5) that a freed slot triggers at once.
Between passes it sleeps until a NOTIFY (a call ended, a campaign was created) or the poll
interval, whichever comes first. Time comes from an injectable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from campaign_service.calls import repository as calls
from campaign_service.calls.repository import ClaimedCall
from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.db.notify import SETTINGS_CHANGED
from campaign_service.db.session import unit_of_work
from campaign_service.dispatcher import breaker, claims, predial, reconciler, scheduler
from campaign_service.dispatcher.courier import Courier
from campaign_service.dispatcher.events import StatusReportRecorder
from campaign_service.dispatcher.presence import Presence
from campaign_service.observability import metrics
from campaign_service.orgs import repository as org_repository
from campaign_service.settings import Settings
from campaign_service.telephony.base import (
    CallRejected,
    NoCapacity,
    PlaceCallRequest,
    ProviderAuthFailed,
    StatusReport,
    TelephonyProvider,
    deep_merge,
)
from campaign_service.timeutil import Clock, utcnow

log = logging.getLogger(__name__)

# Campaign-level steps (start, close windows, finish) need not run on every wake-up.
MAINTENANCE_SECONDS = 0.25
# How often a worker folds the appended v2 counter rows (calls.fold_campaign_counts).
FOLD_COUNTS_SECONDS = 2.0
# Waits that many dispatchers could otherwise line up on (a capacity retry, the pause after a
# failed pass) are spread by a random factor, so they do not come back all at once.
JITTER = (0.8, 1.2)


def jittered(seconds: float) -> float:
    return seconds * random.uniform(*JITTER)


@dataclass
class TickReport:
    activated: int = 0
    rolled: int = 0
    closed: int = 0
    paused: int = 0
    claimed: int = 0
    placed: int = 0
    retried: int = 0
    rejected: int = 0
    screened: int = 0
    checking: int = 0
    unknown: int = 0
    finished: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.activated or self.closed or self.claimed or self.finished)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed call. `give_back` covers both a provider without capacity
    (the call waits and is tried again) and a recovered call of an ended campaign that the
    provider never received (the release ends it, as the campaign's end would have)."""

    call: ClaimedCall
    provider_call_id: str | None = None
    rejected_reason: str | None = None
    give_back: bool = False
    screened_out: SkipReason | None = None
    # The provider's refusal text (kept on the call), the wait it asked for before a retry,
    # and why the org can dial no more (its credentials were refused).
    provider_error: str | None = None
    retry_after: float | None = None
    blocked_reason: str | None = None


def place_request(call: ClaimedCall) -> PlaceCallRequest:
    extra = call.extra_config
    customer = call.customer
    return PlaceCallRequest(
        # The call ID is the idempotency key: every attempt at this call is the same request.
        idempotency_key=str(call.call_id),
        call_id=call.call_id,
        campaign_id=call.campaign_id,
        org_id=call.org_id,
        phone_number_id=call.phone_number_id,
        customer=customer,
        assistant_id=call.assistant_id,
        workflow_id=call.workflow_id,
        squad_id=call.squad_id,
        assistant_overrides=deep_merge(
            extra.get("assistantOverrides") or {}, customer.get("assistantOverrides") or {}
        ),
        squad_overrides=deep_merge(
            extra.get("squadOverrides") or {}, customer.get("squadOverrides") or {}
        ),
        attempt=call.attempts,
        previous_attempt_at=call.previous_attempt_at,
    )


class Dispatcher:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        provider: TelephonyProvider,
        settings: Settings,
        clock: Clock = utcnow,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.settings = settings
        self.clock = clock
        # Without `run(engine=...)` (tests driving `tick` by hand) the dispatcher has no
        # liveness lock: its leases are recovered only when they expire.
        self._unregistered_owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.presence: Presence | None = None
        self._wake = asyncio.Event()
        self.events = StatusReportRecorder(
            sessions, clock=clock, source=provider.name, on_ended=self._wake.set
        )
        self._maintenance_wake = asyncio.Event()
        self._stopping = False
        self._woken_at: float | None = None
        self._dial_slots = asyncio.Semaphore(settings.dispatcher_dial_concurrency)
        self._breakers_checked_at: datetime | None = None
        self._counts_folded_at: datetime | None = None
        self.predial = predial.PredialChecker(
            clock=clock,
            concurrency=settings.dispatcher_dial_concurrency,
            max_wait_seconds=settings.dispatcher_lease_seconds / 2,
        )
        # Calls waiting for their campaign's pre-dial check, per campaign (see `_hand_off`).
        self._checking: set[asyncio.Task[None]] = set()

    @property
    def owner(self) -> str | None:
        """The name its leases carry; None while it has lost its liveness lock (no claims)."""
        if self.presence is None:
            return self._unregistered_owner
        return self.presence.owner

    async def tick(self, *, maintenance: bool = True) -> TickReport:
        """One pass. `maintenance=False` skips the campaign-level steps and lease recovery,
        for the quick passes that a freed slot triggers."""
        report = TickReport()
        if maintenance:
            await self._maintain(report)
        owner = self.owner
        claimed = [] if owner is None else await self._claim(owner, recover=maintenance)
        report.claimed = len(claimed)
        if claimed:
            assert owner is not None
            claimed = await self._screen(claimed, owner, report)
        if claimed:
            assert owner is not None
            claimed = self._hand_off(claimed, owner, report)
        if claimed:
            assert owner is not None
            await self._place_all(claimed, owner, report)
        if maintenance:
            async with unit_of_work(self.sessions) as session:
                finished = await scheduler.finish_completed_campaigns(session, now=self.clock())
            report.finished = len(finished)
        metrics.DISPATCHER_TICKS.inc()
        return report

    async def _maintain(self, report: TickReport) -> None:
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            report.activated = len(await scheduler.activate_due_campaigns(session, now=now))
        # Calling hours before the capacity window: a call whose stretch of hours just
        # closed is rolled to its next one, not taken for a call that lacked a slot.
        async with unit_of_work(self.sessions) as session:
            report.rolled = await scheduler.roll_calling_windows(session, now=now)
        async with unit_of_work(self.sessions) as session:
            report.closed = await scheduler.close_capacity_windows(
                session, now=now, window_seconds=self.settings.capacity_window_seconds
            )
        await self._check_breakers(report, now)
        await self._fold_counts(now)

    async def _fold_counts(self, now: datetime) -> None:
        """Keep each campaign's counter rows few, so a read sums one or two of them."""
        last = self._counts_folded_at
        if last is not None and (now - last).total_seconds() < FOLD_COUNTS_SECONDS:
            return
        self._counts_folded_at = now
        async with unit_of_work(self.sessions) as session:
            await calls.fold_campaign_counts(session)

    async def _check_breakers(self, report: TickReport, now: datetime) -> None:
        last = self._breakers_checked_at
        if last is not None and (now - last).total_seconds() < self.settings.breaker_check_seconds:
            return
        self._breakers_checked_at = now
        async with unit_of_work(self.sessions) as session:
            tripped = await breaker.trip_breakers(session, now=now, settings=self.settings)
        report.paused = len(tripped)
        for campaign_id in tripped:
            log.warning("campaign %s paused by the breaker", campaign_id)

    async def _claim(self, owner: str, *, recover: bool) -> list[ClaimedCall]:
        now = self.clock()
        lease_until = now + timedelta(seconds=self.settings.dispatcher_lease_seconds)
        budget = self.settings.dispatcher_batch_size
        claimed: list[ClaimedCall] = []
        if recover:
            async with unit_of_work(self.sessions) as session:
                claimed = await calls.recover_abandoned_leases(
                    session, owner=owner, now=now, lease_until=lease_until, limit=budget
                )
            if claimed:
                metrics.LEASES_RECOVERED.inc(len(claimed))
                log.warning("recovering %d calls whose dispatcher stopped mid-dial", len(claimed))
        done: list[uuid.UUID] = []
        while len(claimed) < budget:
            async with unit_of_work(self.sessions) as session:
                org_id, claimed_now, others = await claims.claim_for_next_org(
                    session,
                    skip=done,
                    owner=owner,
                    now=now,
                    lease_until=lease_until,
                    limit=budget - len(claimed),
                )
            if org_id is None:
                break
            done.append(org_id)
            claimed += claimed_now
            if not others:  # no other org had calls to claim: no need to look again
                break
        return claimed

    async def _screen(
        self, claimed: list[ClaimedCall], owner: str, report: TickReport
    ) -> list[ClaimedCall]:
        """Right before the dial: a number on the org's do-not-call list (read with the
        lease) is never dialed. A first attempt ends at once; a call an earlier attempt may
        already have placed (a recovered lease) is only looked up at the provider
        (`_adopt_or_drop`)."""
        listed = {c.call_id for c in claimed if c.do_not_call}
        if not listed:
            return claimed
        first = [c for c in claimed if c.call_id in listed and c.attempts == 1]
        async with unit_of_work(self.sessions) as session:
            await calls.end_screened_calls(
                session,
                screened=[(c.call_id, SkipReason.DO_NOT_CALL) for c in first],
                owner=owner,
                now=self.clock(),
            )
        report.screened += len(first)
        done = {c.call_id for c in first}
        return [
            replace(c, screened=SkipReason.DO_NOT_CALL) if c.call_id in listed else c
            for c in claimed
            if c.call_id not in done
        ]

    def _hand_off(
        self, claimed: list[ClaimedCall], owner: str, report: TickReport
    ) -> list[ClaimedCall]:
        """Calls of campaigns with a pre-dial check are checked and placed in a task of their
        own, one per campaign, holding their lease meanwhile: a slow server slows only its
        own campaign. Returns the calls to place in this pass."""
        checked = [
            c
            for c in claimed
            if c.campaign_running and c.screened is None and predial.wants_check(c.extra_config)
        ]
        if not checked:
            return claimed
        report.checking = len(checked)
        for campaign_id in dict.fromkeys(c.campaign_id for c in checked):
            group = [c for c in checked if c.campaign_id == campaign_id]
            task = asyncio.create_task(self._check_then_place(group, owner))
            self._checking.add(task)
            task.add_done_callback(self._checking.discard)
        ids = {c.call_id for c in checked}
        return [c for c in claimed if c.call_id not in ids]

    async def _check_then_place(self, group: list[ClaimedCall], owner: str) -> None:
        try:
            verdicts = await self.predial.check_all(group)
            unchecked = [c.call_id for c in group if verdicts[c.call_id] is predial.NOT_CHECKED]
            # A first attempt ends at once; a recovered one is only looked up at the provider.
            first = [
                (c.call_id, reason)
                for c in group
                if isinstance(reason := verdicts[c.call_id], SkipReason) and c.attempts == 1
            ]
            if first or unchecked:
                now = self.clock()
                async with unit_of_work(self.sessions) as session:
                    await calls.end_screened_calls(session, screened=first, owner=owner, now=now)
                    await calls.release_for_retry(
                        session,
                        call_ids=unchecked,
                        owner=owner,
                        retry_at=now + timedelta(seconds=jittered(1.0)),
                        now=now,
                    )
            done = {call_id for call_id, _ in first} | set(unchecked)
            rest = []
            for c in group:
                verdict = verdicts[c.call_id]
                if c.call_id not in done:
                    screened = verdict if isinstance(verdict, SkipReason) else None
                    rest.append(replace(c, screened=screened) if screened else c)
            if rest:
                await self._place_all(rest, owner, TickReport())
        except Exception:
            log.exception("pre-dial check and placing failed; the leases will be recovered")

    async def settle(self) -> None:
        """Wait for the pre-dial checks under way and the placing that follows them."""
        while self._checking:
            await asyncio.gather(*self._checking, return_exceptions=True)

    async def _place_all(self, claimed: list[ClaimedCall], owner: str, report: TickReport) -> None:
        outcomes = await asyncio.gather(*(self._place(call) for call in claimed))
        now = self.clock()
        retry_at = now + timedelta(seconds=jittered(self.settings.capacity_retry_seconds))
        reports: list[StatusReport] = []
        retry: list[ClaimedCall] = []
        waits: dict[uuid.UUID, datetime] = {}
        blocked: dict[uuid.UUID, str] = {}
        screened: list[tuple[uuid.UUID, SkipReason]] = []
        for outcome in outcomes:
            if outcome is None:
                report.unknown += 1
            elif outcome.screened_out is not None:
                screened.append((outcome.call.call_id, outcome.screened_out))
            elif outcome.provider_call_id is not None:
                report.placed += 1
                reports.append(
                    StatusReport(
                        outcome.call.call_id,
                        CallStatus.QUEUED,
                        provider_call_id=outcome.provider_call_id,
                        occurred_at=now,
                    )
                )
            elif outcome.rejected_reason is not None:
                report.rejected += 1
                reports.append(
                    StatusReport(
                        outcome.call.call_id,
                        CallStatus.ENDED,
                        ended_reason=outcome.rejected_reason,
                        occurred_at=now,
                        provider_error=outcome.provider_error,
                    )
                )
            else:
                retry.append(outcome.call)
                if outcome.blocked_reason is not None:
                    blocked.setdefault(outcome.call.org_id, outcome.blocked_reason)
                if outcome.retry_after is not None:
                    waits[outcome.call.call_id] = max(
                        retry_at, now + timedelta(seconds=outcome.retry_after)
                    )
        report.retried = len(retry)
        async with unit_of_work(self.sessions) as session:
            await calls.apply_status_reports(session, reports, source="dispatcher", now=now)
            for when in {waits.get(call.call_id, retry_at) for call in retry}:
                await calls.release_for_retry(
                    session,
                    call_ids=[c.call_id for c in retry if waits.get(c.call_id, retry_at) == when],
                    owner=owner,
                    retry_at=when,
                    now=now,
                )
            for org_id, reason in blocked.items():
                await org_repository.block_dispatch(session, org_id, reason=reason, now=now)
            await calls.end_screened_calls(session, screened=screened, owner=owner, now=now)
        report.screened += len(screened)
        metrics.CALLS_PLACED.inc(report.placed)
        if report.placed and self._woken_at is not None:
            metrics.DISPATCH_LAG.observe(time.monotonic() - self._woken_at)
            self._woken_at = None

    async def _place(self, call: ClaimedCall) -> Outcome | None:
        if not call.campaign_running or call.screened is not None:
            return await self._adopt_or_drop(call)
        async with self._dial_slots:
            try:
                provider_call_id = await self.provider.place_call(place_request(call))
            except NoCapacity as exc:
                return Outcome(call, give_back=True, retry_after=exc.retry_after)
            except CallRejected as exc:
                return Outcome(
                    call, rejected_reason=exc.ended_reason, provider_error=exc.provider_error
                )
            except ProviderAuthFailed as exc:
                log.error("org %s: dispatch blocked: %s", call.org_id, exc)
                if call.previous_attempt_at is not None:
                    # An earlier attempt may have dialed: keep the lease (and what it knows).
                    await self._block_org(call.org_id, str(exc))
                    return None
                return Outcome(call, give_back=True, blocked_reason=str(exc))
            except Exception:
                # Unknown outcome: keep the lease; when it expires the call is placed again
                # with the same idempotency key.
                log.exception("placing call %s failed; its lease will be recovered", call.call_id)
                return None
            return Outcome(call, provider_call_id=provider_call_id)

    async def _block_org(self, org_id: uuid.UUID, reason: str) -> None:
        async with unit_of_work(self.sessions) as session:
            await org_repository.block_dispatch(session, org_id, reason=reason, now=self.clock())

    async def _adopt_or_drop(self, call: ClaimedCall) -> Outcome | None:
        """A call recovered from a dead dispatcher after its campaign ended, or screened out
        since its earlier attempt: no new dial may start. If the earlier dial reached the
        provider, that call goes on (it is adopted); if not, the call ends unplaced. If the
        provider cannot say, ask again later."""
        async with self._dial_slots:
            try:
                provider_call_id = await self.provider.find_call(place_request(call))
            except Exception:
                log.exception("looking up call %s failed; trying again later", call.call_id)
                return None
        if provider_call_id is None:
            if call.screened is not None:
                return Outcome(call, screened_out=call.screened)
            return Outcome(call, give_back=True)
        return Outcome(call, provider_call_id=provider_call_id)

    def _notified(self, payload: str) -> None:
        """A notice that an org's provider settings changed: drop what is cached of them."""
        invalidate = getattr(self.provider, "invalidate", None)
        if invalidate is not None and payload.startswith(SETTINGS_CHANGED):
            with contextlib.suppress(ValueError):
                invalidate(uuid.UUID(payload.removeprefix(SETTINGS_CHANGED)))

    def wake(self) -> None:
        if self._woken_at is None:
            self._woken_at = time.monotonic()
        self._wake.set()
        self._maintenance_wake.set()

    def stop(self) -> None:
        """Let the current passes finish, then make `run` return."""
        self._stopping = True
        self._wake.set()
        self._maintenance_wake.set()

    async def _quick_loop(self) -> None:
        """Quick passes (claim and place): one at once on each wake-up, and again while they
        find work."""
        while not self._stopping:
            self._wake.clear()
            wait = self.settings.dispatcher_poll_interval
            try:
                report = await self.tick(maintenance=False)
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                report, wait = TickReport(), jittered(wait)
            if report.busy or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _maintenance_loop(self) -> None:
        """Full passes, with the campaign-level steps and lease recovery, beside the quick
        ones (so a freed slot never waits for them): on a wake-up or the poll interval,
        whichever comes first, and at most every MAINTENANCE_SECONDS."""
        while not self._stopping:
            self._maintenance_wake.clear()
            started = time.monotonic()
            wait = self.settings.dispatcher_poll_interval
            try:
                report = await self.tick(maintenance=True)
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                report, wait = TickReport(), jittered(wait)
            if report.busy:
                self._wake.set()  # campaigns started or calls claimed: claim on at once
            pause = MAINTENANCE_SECONDS - (time.monotonic() - started)
            if pause > 0 and not self._stopping:
                await asyncio.sleep(pause)
            if report.busy or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._maintenance_wake.wait(), timeout=wait)

    async def run(self, *, engine: AsyncEngine | None = None) -> None:
        """Dispatch until `stop()`. With `engine`, LISTEN for wake-ups on a connection.

        A NOTIFY (a call ended, a campaign was created) triggers a quick pass at once; the full
        pass, with the campaign-level steps and lease recovery, runs in a task of its own, at
        most every MAINTENANCE_SECONDS and at least every poll interval."""
        await self.provider.start(self.events)
        stopping = asyncio.Event()
        presence_task = None
        if engine is not None:
            self.presence = Presence(engine, on_notify=self.wake, on_payload=self._notified)
            presence_task = asyncio.create_task(self.presence.run(stopping), name="presence")
        reconciler_task = reconciler.start(
            sessions=self.sessions,
            provider=self.provider,
            sink=self.events,
            settings=self.settings,
            clock=self.clock,
            stopping=stopping,
        )
        courier_task = None
        if self.settings.events_enabled:
            courier = Courier(sessions=self.sessions, settings=self.settings, clock=self.clock)
            courier_task = asyncio.create_task(courier.run(stopping), name="courier")
        maintenance_task = asyncio.create_task(self._maintenance_loop(), name="maintenance")
        try:
            await self._quick_loop()
        finally:
            with contextlib.suppress(Exception):
                await maintenance_task
            await self.settle()
            await self.predial.close()
            stopping.set()
            if reconciler_task is not None:
                with contextlib.suppress(Exception):
                    await reconciler_task
            if presence_task is not None:
                with contextlib.suppress(Exception):
                    await presence_task
            if courier_task is not None:
                with contextlib.suppress(Exception):
                    await courier_task
            await self.provider.stop()
