"""Crash chaos: worker processes SIGKILLed every second or two while campaigns run, and a user
ending one campaign in the middle. Used by the suite (short run) and by bench/chaos.py.

What must hold, checked from PostgreSQL and the simulated network's own records:
- no double dial: the network created at most one call per call record;
- no dial after end: every call the network created for the ended campaign either existed
  when the end committed, or was on the wire then (leased at that moment) and was created by
  that very attempt, not by a later one;
- no lost call: every call ended; placed calls match the network's, unplaced ones ended with
  a reason that says why;
- limits held: sampled in flight (engine's view) and active on the network (network's view)
  never above a campaign's maxConcurrency or an org's limit;
- counters kept: at every sample and at the end, each campaign's stored v2 counters
  (campaign_counts, appended by triggers in each write's transaction) equal a recount from
  its calls in the same snapshot, whatever was killed mid-write.

Campaigns marked "control" run with a retry plan and calling hours (extensions): their
attempts are numbered without gaps, never more than maxAttempts, a retry follows only a
retried outcome (and always follows one while the campaign ran by itself); one of them has a
calling window that closes mid-run, after which nothing is dialed for it but what was on the
wire at the close (checked as the user's end is), and its latestAt ends what is left.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from campaign_service.campaigns import lifecycle
from campaign_service.campaigns.schemas import CreateCampaignDTO
from campaign_service.campaigns.service import create_campaign
from campaign_service.campaigns.state import Stage
from campaign_service.db.models import Org
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org
from tests.counters_oracle import assert_counters_hold
from tests.dispatcher import chaos_control as control


@dataclass(frozen=True)
class Plan:
    """Orgs as (concurrency limit, [(customers, maxConcurrency[, "control"]), ...])."""

    orgs: tuple[tuple[int, tuple[tuple[Any, ...], ...]], ...]
    workers: int = 3
    kill_every: tuple[float, float] = (1.0, 2.0)
    kills: bool = True
    end_after_share: float = 0.3  # end one campaign once this share of all calls has ended
    seed: int = 7
    timeout: float = 600.0


@dataclass
class Result:
    calls: int = 0
    kills: int = 0
    recovery_seconds: list[float] = field(default_factory=list)
    run_seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    counter_checks: int = 0
    max_in_flight: dict[str, int] = field(default_factory=dict)
    retries: int = 0  # call records beyond contacts' first attempts
    cut_off: int = 0  # calls of the windowed campaign its window and latestAt left unplaced

    def summary(self) -> str:
        recovery = sorted(self.recovery_seconds)
        spread = (
            f"recovery p50 {statistics.median(recovery):.2f} s, max {recovery[-1]:.2f} s"
            if recovery
            else "no recovery measured"
        )
        return (
            f"{self.calls} calls, {self.kills} kills, {spread}, run {self.run_seconds:.1f} s, "
            f"{self.retries} retries, {self.cut_off} cut off by calling hours, "
            f"{self.counter_checks} counter checks, {len(self.violations)} violations"
        )


def worker_env(database_url: str, home: Path, seed: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CAMPAIGN_SERVICE_HOME": str(home),
        "CAMPAIGN_SERVICE_SIM_RING_SECONDS": "[0.1, 0.3]",
        "CAMPAIGN_SERVICE_SIM_TALK_SECONDS": "[0.2, 0.8]",
        "CAMPAIGN_SERVICE_SIM_DIAL_LATENCY_SECONDS": "0.05",
        "CAMPAIGN_SERVICE_SIM_SEED": str(seed),
        # Leases far longer than the run: a dead worker's calls can come back only through its
        # lost liveness lock, never through an expiry.
        "CAMPAIGN_SERVICE_DISPATCHER_LEASE_SECONDS": "600",
        "CAMPAIGN_SERVICE_DISPATCHER_POLL_INTERVAL": "0.5",
        "CAMPAIGN_SERVICE_LOG_LEVEL": "ERROR",
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "campaign_service.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def seed(
    sessions: async_sessionmaker[AsyncSession], plan: Plan, *, closes_at: datetime | None = None
) -> dict[uuid.UUID, tuple[uuid.UUID, int, int]]:
    """The plan's orgs and campaigns (scheduled far ahead); campaign -> (org, max, org limit).
    The first "control" campaign's calling hours close at `closes_at`."""
    campaigns: dict[uuid.UUID, tuple[uuid.UUID, int, int]] = {}
    async with unit_of_work(sessions) as session:
        for o, (org_limit, planned) in enumerate(plan.orgs):
            key = await create_org(session, name=f"chaos {o}", concurrency_limit=org_limit)
            org = await session.get(Org, key.org_id)
            assert org is not None
            for c, spec in enumerate(planned):
                customers, max_concurrency = spec[0], spec[1]
                controls = control.settings(spec, closes_at)
                if controls.get("schedulePlan"):
                    closes_at = None  # only the first one closes mid-run
                dto = CreateCampaignDTO.model_validate(
                    {
                        "name": f"chaos {o}.{c}",
                        "assistantId": "asst_chaos",
                        "phoneNumberId": "pn_chaos",
                        "maxConcurrency": max_concurrency,
                        "customers": control.customers(f"{o}{c}", customers, bool(controls)),
                        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
                        **controls,
                    }
                )
                campaign = await create_campaign(session, org=org, dto=dto, now=datetime.now(UTC))
                campaigns[campaign.id] = (org.id, max_concurrency, org_limit)
    return campaigns


async def scalar(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return (await session.execute(text(sql), params)).scalar()


async def rows(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(text(sql), params)).all())


IN_FLIGHT = """
    SELECT campaign_id, count(*) AS n FROM calls
    WHERE status IN ('queued', 'ringing', 'in-progress', 'forwarding')
       OR lease_expires_at IS NOT NULL
    GROUP BY campaign_id
"""


class Chaos:
    def __init__(self, database_url: str, home: Path, plan: Plan) -> None:
        self.url, self.home, self.plan = database_url, home, plan
        self.rng = random.Random(plan.seed)
        self.result = Result()
        self.workers: list[subprocess.Popen[bytes]] = []
        self.ended_snapshot: dict[str, Any] | None = None
        self.window_snapshot: dict[str, Any] | None = None
        self.closes_at = control.closing_minute() if control.planned(plan) else None

    async def run(self) -> Result:
        engine = create_engine(self.url, pool_size=4)
        sessions = session_factory(engine)
        try:
            self.campaigns = await seed(sessions, self.plan, closes_at=self.closes_at)
            self.result.calls = int(await scalar(sessions, "SELECT count(*) FROM calls"))
            env = worker_env(self.url, self.home, self.plan.seed)
            self.workers = [start_worker(env) for _ in range(self.plan.workers)]
            await asyncio.sleep(1.5)  # workers up and registered
            if self.closes_at is not None:  # release so that the window closes mid-run
                await control.sleep_until(self.closes_at - control.OPEN_BEFORE_CLOSE)
            started = time.monotonic()
            await self._release(engine)
            await self._drive(sessions, env, started)
            self.result.run_seconds = time.monotonic() - started
        finally:
            for worker in self.workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in self.workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()  # never leave a worker running against the database
                    worker.wait(timeout=30)
        try:
            await self._check(sessions)
        finally:
            await engine.dispose()
        return self.result

    async def _release(self, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE campaigns SET earliest_at = now()"))
            if self.closes_at is not None:  # what the window leaves, latestAt ends
                await conn.execute(
                    text("UPDATE campaigns SET latest_at = :t WHERE latest_at IS NOT NULL"),
                    {"t": self.closes_at + control.LATEST_AFTER_CLOSE},
                )
            await conn.execute(text("SELECT pg_notify('campaign_service_dispatch', 'chaos')"))

    async def _drive(
        self, sessions: async_sessionmaker[AsyncSession], env: dict[str, str], started: float
    ) -> None:
        next_kill = time.monotonic() + self.rng.uniform(*self.plan.kill_every)
        recoveries: list[asyncio.Task[None]] = []
        while True:
            await self._sample(sessions)
            left = await scalar(sessions, "SELECT count(*) FROM campaigns WHERE status <> 'ended'")
            if left == 0:
                break
            if time.monotonic() - started > self.plan.timeout:
                self.result.violations.append("campaigns did not finish in time")
                break
            if self.ended_snapshot is None:
                ended = await scalar(sessions, "SELECT count(*) FROM calls WHERE status = 'ended'")
                if ended >= self.plan.end_after_share * self.result.calls:
                    await self._end_one(sessions)
            if self.window_snapshot is None and control.closed(self.closes_at):
                self.window_snapshot = await self._snapshot(
                    sessions, await control.windowed(sessions)
                )
            if self.plan.kills and time.monotonic() >= next_kill:
                recoveries.append(asyncio.create_task(self._kill_one(sessions, env)))
                next_kill = time.monotonic() + self.rng.uniform(*self.plan.kill_every)
            await asyncio.sleep(0.1)
        await asyncio.gather(*recoveries)

    async def _kill_one(
        self, sessions: async_sessionmaker[AsyncSession], env: dict[str, str]
    ) -> None:
        registered = {
            int(r.pid)
            for r in await rows(
                sessions,
                "SELECT split_part(application_name, ':', 2) AS pid FROM pg_stat_activity"
                " WHERE application_name LIKE 'campaign-service dispatcher %'",
            )
        }
        up = [w for w in self.workers if w.poll() is None and w.pid in registered]
        if len(up) < 2:
            # Keep a registered survivor to take over the victim's leases (replacements take
            # seconds to start on a loaded machine).
            return
        # The worst moment: a worker holding leases (mid-dial), whenever one does.
        holding = {
            r.pid
            for r in await rows(
                sessions,
                "SELECT DISTINCT split_part(lease_owner, ':', 2) AS pid FROM calls"
                " WHERE lease_owner IS NOT NULL",
            )
        }
        victim = self.rng.choice([w for w in up if str(w.pid) in holding] or up)
        victim.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await asyncio.to_thread(victim.wait, 10)
        self.workers.remove(victim)
        self.workers.append(start_worker(env))
        self.result.kills += 1
        held = "SELECT count(*) FROM calls WHERE split_part(lease_owner, ':', 2) = :pid"
        if not await scalar(sessions, held, pid=str(victim.pid)):
            return  # it held no lease when it died: nothing to recover
        while await scalar(sessions, held, pid=str(victim.pid)):
            if time.monotonic() - killed_at > 60:
                self.result.violations.append(f"leases of killed pid {victim.pid} never recovered")
                return
            await asyncio.sleep(0.02)
        self.result.recovery_seconds.append(time.monotonic() - killed_at)

    async def _end_one(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """The user ends the biggest campaign, then the state at that moment is recorded."""
        running = await rows(
            sessions,
            "SELECT c.id, count(*) FILTER (WHERE k.status <> 'ended') AS open FROM campaigns c"
            " JOIN calls k ON k.campaign_id = c.id WHERE c.status = 'in-progress'"
            " GROUP BY c.id ORDER BY open DESC LIMIT 1",
        )
        if not running:
            return
        campaign_id = running[0].id
        async with unit_of_work(sessions) as session:
            status = await session.execute(
                text("SELECT status FROM campaigns WHERE id = :id FOR UPDATE"), {"id": campaign_id}
            )
            await lifecycle.end_by_user(
                session,
                campaign_id=campaign_id,
                current=Stage(status.scalar_one()),
                now=datetime.now(UTC),
            )
        # Committed. Whatever the network gets for this campaign from now on must have been on
        # the wire at this moment.
        self.ended_snapshot = await self._snapshot(sessions, campaign_id)

    async def _snapshot(
        self, sessions: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID | None
    ) -> dict[str, Any]:
        """The campaign's calls the network has, and those on the wire (leased), right now."""
        existing = await rows(
            sessions,
            "SELECT s.call_id FROM sim_calls s JOIN calls k ON k.id = s.call_id"
            " WHERE k.campaign_id = :id",
            id=campaign_id,
        )
        leased = await rows(
            sessions,
            "SELECT id, attempts FROM calls"
            " WHERE campaign_id = :id AND lease_expires_at IS NOT NULL",
            id=campaign_id,
        )
        return {
            "campaign": campaign_id,
            "existing": {r.call_id for r in existing},
            "leased": {r.id: r.attempts for r in leased},
        }

    async def _check_counters(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            try:
                await assert_counters_hold(session)
            except AssertionError as error:
                self.result.violations.append(str(error))
        self.result.counter_checks += 1

    async def _sample(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        await self._check_counters(sessions)
        by_campaign = {r.campaign_id: int(r.n) for r in await rows(sessions, IN_FLIGHT)}
        by_org: dict[uuid.UUID, int] = defaultdict(int)
        for campaign_id, busy in by_campaign.items():
            org_id, limit, org_limit = self.campaigns[campaign_id]
            by_org[org_id] += busy
            if busy > limit:
                self.result.violations.append(f"campaign {campaign_id}: {busy} > {limit}")
            self._track(f"campaign {campaign_id}", busy)
        for org_id, busy in by_org.items():
            org_limit = next(lim for org, _, lim in self.campaigns.values() if org == org_id)
            if busy > org_limit:
                self.result.violations.append(f"org {org_id}: {busy} in flight > {org_limit}")
            self._track(f"org {org_id}", busy)

    def _track(self, key: str, value: int) -> None:
        self.result.max_in_flight[key] = max(self.result.max_in_flight.get(key, 0), value)

    async def _check(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        v = self.result.violations
        sim = await rows(sessions, "SELECT call_id, attempt, provider_call_id FROM sim_calls")
        if len(sim) != len({r.call_id for r in sim}):
            v.append("a call was dialed twice")
        calls = await rows(
            sessions,
            "SELECT id, campaign_id, status, ended_reason, provider_call_id, started_at,"
            " position, attempt_number FROM calls",
        )
        network = {r.call_id: r for r in sim}
        for call in calls:
            if call.status != "ended":
                v.append(f"call {call.id} never ended ({call.status})")
            placed = network.get(call.id)
            if placed is not None and placed.provider_call_id != call.provider_call_id:
                v.append(f"call {call.id}: the network's call is not the record's")
            if placed is None and call.started_at is not None:
                v.append(f"call {call.id} recorded as placed, unknown to the network")
            if placed is None and call.ended_reason not in (  # incl. no-calling-hours skips
                "scheduled-call-deleted",
                "call.start.error-subscription-concurrency-limit-reached",
            ):
                v.append(f"call {call.id} ended unplaced with {call.ended_reason}")
        self._check_end(network, {c.id for c in calls if c.campaign_id == self._ended_id()})
        self.result.retries = sum(1 for c in calls if c.attempt_number > 1)
        if self.window_snapshot is not None:
            windowed = self.window_snapshot["campaign"]
            self.result.cut_off = sum(
                1 for c in calls if c.campaign_id == windowed and c.started_at is None
            )
            v.extend(
                control.check_cut(
                    network,
                    {c.id for c in calls if c.campaign_id == windowed},
                    self.window_snapshot,
                    "dialed after its calling hours closed",
                )
            )
        elif self.closes_at is not None:
            v.append("the calling window never closed during the run")
        v.extend(await control.check_attempts(sessions, calls, ended_by_user=self._ended_id()))
        await self._check_network_limits(sessions)
        await self._check_counters(sessions)

    def _ended_id(self) -> uuid.UUID | None:
        return None if self.ended_snapshot is None else self.ended_snapshot["campaign"]

    def _check_end(self, network: dict[Any, Any], ended_calls: set[uuid.UUID]) -> None:
        snapshot = self.ended_snapshot
        if snapshot is None:
            self.result.violations.append("no campaign was ended by the user mid-run")
            return
        self.result.violations.extend(
            control.check_cut(network, ended_calls, snapshot, "dialed after its campaign ended")
        )

    async def _check_network_limits(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        spans = await rows(
            sessions,
            "SELECT k.campaign_id, s.created_at AS start, e.due_at AS stop FROM sim_calls s"
            " JOIN calls k ON k.id = s.call_id"
            " JOIN sim_call_steps e ON e.provider_call_id = s.provider_call_id"
            " AND e.status = 'ended'",
        )
        for key, limit, members in self._limit_groups():
            edges = sorted(
                [(r.start, 1) for r in spans if r.campaign_id in members]
                + [(r.stop, -1) for r in spans if r.campaign_id in members],
                key=lambda edge: (edge[0], edge[1]),
            )
            active = peak = 0
            for _, step in edges:
                active += step
                peak = max(peak, active)
            if peak > limit:
                self.result.violations.append(f"{key}: {peak} active on the network > {limit}")

    def _limit_groups(self) -> list[tuple[str, int, set[uuid.UUID]]]:
        groups: list[tuple[str, int, set[uuid.UUID]]] = [
            (f"campaign {c}", limit, {c}) for c, (_, limit, _) in self.campaigns.items()
        ]
        orgs: dict[uuid.UUID, tuple[int, set[uuid.UUID]]] = {}
        for campaign_id, (org_id, _, org_limit) in self.campaigns.items():
            orgs.setdefault(org_id, (org_limit, set()))[1].add(campaign_id)
        groups += [(f"org {o}", limit, members) for o, (limit, members) in orgs.items()]
        return groups
