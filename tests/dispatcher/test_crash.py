"""A dispatcher that dies mid-dial loses no call and dials none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import campaign_body
from tests.counters_oracle import assert_counters_hold
from tests.dispatcher.conftest import rows, scalar, stop_process


class DiesMidDial:
    """Wraps a provider; the first dial of each call 'crashes' the dispatcher, before or after
    the request reached the network (an exception is what the engine sees of a lost answer)."""

    def __init__(self, inner, *, after_dial: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.after_dial = after_dial
        self.crashed: set[str] = set()

    async def start(self, sink) -> None:
        """Nothing: the tests deliver the network's steps themselves, on the fake clock (its
        own pump would race them in real time)."""

    async def stop(self) -> None:
        await self.inner.stop()

    async def find_call(self, request):
        return await self.inner.find_call(request)

    async def place_call(self, request):
        if request.idempotency_key in self.crashed:
            return await self.inner.place_call(request)
        self.crashed.add(request.idempotency_key)
        if self.after_dial:
            await self.inner.place_call(request)
        raise ConnectionResetError("dispatcher lost the provider's answer")


@pytest.mark.parametrize("after_dial", [False, True], ids=["before-dial", "after-dial"])
async def test_lease_recovery_places_each_call_exactly_once(
    client, org, clock, make_dispatcher, simulated, sessions, after_dial
):
    await client.post("/campaigns", json=campaign_body(n=4), headers=org.headers)
    network = simulated()
    first = await make_dispatcher(DiesMidDial(network, after_dial=after_dial))
    report = await first.tick()
    assert report.unknown == 4
    assert report.placed == 0
    # Still leased: nobody else may take these calls, and they hold their slots.
    second = await make_dispatcher(network)
    assert (await second.tick()).claimed == 0
    clock.advance(seconds=31)  # the lease (30 s) expires
    report = await second.tick()
    assert report.claimed == 4
    assert report.placed == 4
    sim = await rows(sessions, "SELECT call_id, dial_requests FROM sim_calls")
    assert len(sim) == 4
    assert len({r.call_id for r in sim}) == 4
    assert {r.dial_requests for r in sim} == ({2} if after_dial else {1})
    assert await scalar(sessions, "SELECT min(attempts) FROM calls") == 2
    queued = await rows(sessions, "SELECT call_id FROM call_events WHERE to_status = 'queued'")
    assert len(queued) == 4


MID_DIAL = "SELECT count(*) FROM calls WHERE lease_owner IS NOT NULL AND status = 'scheduled'"


def _worker(database_url: str, home: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CAMPAIGN_SERVICE_HOME": str(home),
        "CAMPAIGN_SERVICE_SIM_PRESET": "demo",
        "CAMPAIGN_SERVICE_SIM_DIAL_LATENCY_SECONDS": "0.4",
        "CAMPAIGN_SERVICE_DISPATCHER_LEASE_SECONDS": "2",
        "CAMPAIGN_SERVICE_DISPATCHER_POLL_INTERVAL": "0.2",
        "CAMPAIGN_SERVICE_LOG_FORMAT": "json",
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "campaign_service.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def _ended(sessions, campaign_id):
    """A condition for _wait_for: the campaign has ended."""

    async def ended() -> bool:
        status = await scalar(
            sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign_id
        )
        return status == "ended"

    return ended


async def _assert_each_call_ended_and_dialed_at_most_once(sessions, n: int) -> None:
    """All n calls ended, none was dialed twice, and each placed call is the network's."""
    calls = await rows(sessions, "SELECT status FROM calls")
    assert len(calls) == n
    assert all(c.status == "ended" for c in calls)
    sim = await rows(sessions, "SELECT call_id FROM sim_calls")
    assert len(sim) == len({r.call_id for r in sim})  # no call dialed twice
    placed = await scalar(sessions, "SELECT count(*) FROM calls WHERE provider_call_id IS NOT NULL")
    assert len(sim) == placed


async def test_killed_worker_process_loses_no_call_and_dials_none_twice(
    client, org, sessions, database_url, tmp_path
):
    response = await client.post(
        "/campaigns", json=campaign_body(n=12, maxConcurrency=4), headers=org.headers
    )
    campaign_id = response.json()["id"]
    doomed = _worker(database_url, tmp_path)
    survivor = None
    try:

        async def dialing() -> bool:
            # Calls claimed (leased) but not yet confirmed by the network: mid-dial.
            return bool(
                await scalar(
                    sessions,
                    MID_DIAL,
                )
            )

        await _wait_for(dialing, seconds=60)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        mid_dial = await scalar(
            sessions,
            MID_DIAL,
        )
        assert mid_dial > 0
        survivor = _worker(database_url, tmp_path)

        await _wait_for(_ended(sessions, campaign_id), seconds=90)
    finally:
        for process in (doomed, survivor):
            if process is not None:
                stop_process(process)
    assert survivor is not None
    assert survivor.returncode == 0
    calls = await rows(sessions, "SELECT id, status, attempts FROM calls")
    assert len(calls) == 12
    assert all(c.status == "ended" for c in calls)
    assert any(c.attempts >= 2 for c in calls)  # the survivor recovered the killed dials
    sim = await rows(sessions, "SELECT call_id FROM sim_calls")
    assert len(sim) == len({r.call_id for r in sim})  # no call dialed twice
    placed = await scalar(sessions, "SELECT count(*) FROM calls WHERE provider_call_id IS NOT NULL")
    assert len(sim) == placed


@pytest.mark.parametrize("after_dial", [False, True], ids=["before-dial", "after-dial"])
async def test_no_dial_starts_after_the_campaign_ended(
    client, org, clock, make_dispatcher, simulated, sessions, after_dial
):
    """A dispatcher dies after claiming and before (or after) reaching the network; the user
    ends the campaign; the lease is recovered later. The recovery must not start a dial: a
    call the network never got ends unplaced, a call it got goes on."""
    campaign = (
        await client.post("/campaigns", json=campaign_body(n=3), headers=org.headers)
    ).json()
    network = simulated()
    dead = await make_dispatcher(DiesMidDial(network, after_dial=after_dial))
    assert (await dead.tick()).unknown == 3
    end = await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert end.status_code == 200
    # Ending skips calls being dialed: they stay leased until someone recovers them.
    assert await scalar(sessions, MID_DIAL) == 3
    survivor = await make_dispatcher(network)
    clock.advance(seconds=31)  # the lease (30 s) expires
    await survivor.tick()
    assert await scalar(sessions, MID_DIAL) == 0
    sim = await rows(sessions, "SELECT call_id, attempt, dial_requests FROM sim_calls")
    calls = await rows(sessions, "SELECT status, ended_reason, provider_call_id FROM calls")
    if after_dial:
        # The network has the three calls from the first attempt; they were adopted.
        assert [(r.attempt, r.dial_requests) for r in sim] == [(1, 1)] * 3
        assert {c.status for c in calls} == {"queued"}
        assert all(c.provider_call_id for c in calls)
    else:
        assert sim == []
        assert {(c.status, c.ended_reason) for c in calls} == {("ended", "scheduled-call-deleted")}


LEASES_OF_PID = "SELECT count(*) FROM calls WHERE split_part(lease_owner, ':', 2) = :pid"


async def test_a_killed_workers_leases_are_recovered_in_seconds(
    client, org, sessions, database_url, tmp_path
):
    """The killed worker held the org's whole limit mid-dial. Its leases last 600 s, but the
    survivor sees its liveness lock vanish and takes them over at once (bench/chaos.py
    measures how fast)."""
    await client.post("/campaigns", json=campaign_body(n=6, maxConcurrency=2), headers=org.headers)
    slow = {"CAMPAIGN_SERVICE_SIM_DIAL_LATENCY_SECONDS": "5"}
    # Leases far longer than this test may take: only the liveness lock can give them back.
    long_lease = {"CAMPAIGN_SERVICE_DISPATCHER_LEASE_SECONDS": "600"}
    doomed = _worker(database_url, tmp_path, **slow, **long_lease)
    survivor = None
    try:

        async def holding_two() -> bool:
            return await scalar(sessions, LEASES_OF_PID, pid=str(doomed.pid)) == 2

        await _wait_for(holding_two, seconds=60)
        survivor = _worker(database_url, tmp_path, **long_lease)
        await asyncio.sleep(2)  # the survivor is up; it cannot claim (the org is full)
        assert await scalar(sessions, LEASES_OF_PID, pid=str(survivor.pid)) == 0
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)

        async def taken_over() -> bool:
            return await scalar(sessions, LEASES_OF_PID, pid=str(doomed.pid)) == 0

        await _wait_for(taken_over, seconds=120)
    finally:
        for process in (doomed, survivor):
            if process is not None:
                stop_process(process)
    recovered = await scalar(sessions, "SELECT count(*) FROM calls WHERE attempts >= 2")
    assert recovered == 2


@pytest.mark.parametrize("after_dial", [False, True], ids=["before-dial", "after-dial"])
async def test_a_recovered_call_put_on_do_not_call_meanwhile_is_not_dialed(
    client, org, clock, make_dispatcher, simulated, sessions, after_dial
):
    """A dispatcher dies mid-dial; the number goes on the do-not-call list; the recovery may
    only adopt a dial that already reached the network, never start one."""
    created = await client.post("/campaigns", json=campaign_body(n=1), headers=org.headers)
    (call,) = created.json()["calls"].values()
    network = simulated()
    dead = await make_dispatcher(DiesMidDial(network, after_dial=after_dial))
    assert (await dead.tick()).unknown == 1
    listed = await client.post(
        "/dnc", json={"number": call["customer"]["number"]}, headers=org.headers
    )
    assert listed.status_code in (200, 201)
    survivor = await make_dispatcher(network)
    clock.advance(seconds=31)
    await survivor.tick()
    record = (await rows(sessions, "SELECT status, skip_reason, provider_call_id FROM calls"))[0]
    sim = await rows(sessions, "SELECT attempt FROM sim_calls")
    if after_dial:
        assert [r.attempt for r in sim] == [1]  # the first attempt's call, adopted
        assert record.status == "queued"
        assert record.provider_call_id
    else:
        assert sim == []
        assert (record.status, record.skip_reason) == ("ended", "do-not-call")


# A claim statement of a worker: it holds the org's lock and waits on the campaign's row.
CLAIM_WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE '%WITH picked AS%running AS%'"
)
# A worker waiting for the org's lock (all orgs with due calls are being claimed for).
LOCK_WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE '%WITH due AS%locked AS%'"
)
IN_FLIGHT = (
    "SELECT count(*) FROM calls WHERE status IN ('queued', 'ringing', 'in-progress',"
    " 'forwarding') OR lease_expires_at IS NOT NULL"
)


async def test_a_worker_killed_mid_claim_holding_the_org_lock_leaves_no_trace(
    client, org, sessions, engine, database_url, tmp_path
):
    """The worst moment of a claim: a worker holds the org's lock, its claim statement has
    run up to the campaign's row, and another worker waits for the org's lock. The first is
    killed; its claim never commits. The waiter claims with counts taken after the lock, so
    no call is dialed twice or lost and the limit holds throughout."""
    response = await client.post(
        "/campaigns", json=campaign_body(n=12, maxConcurrency=4), headers=org.headers
    )
    campaign_id = response.json()["id"]
    doomed = _worker(database_url, tmp_path)
    waiter = None
    peak = 0
    try:

        async def dialing() -> bool:
            return bool(await scalar(sessions, MID_DIAL))

        await _wait_for(dialing, seconds=60)  # running; the next claims come as calls end
        async with engine.connect() as user:
            # Hold the campaign's row, as a user ending it would: the next claim stops on it.
            await user.execute(
                text("SELECT 1 FROM campaigns WHERE id = :id FOR UPDATE"), {"id": campaign_id}
            )

            async def claim_stopped() -> bool:
                return bool(await scalar(sessions, CLAIM_WAITING))

            await _wait_for(claim_stopped, seconds=60)
            waiter = _worker(database_url, tmp_path)

            async def waiting_for_the_org() -> bool:
                return bool(await scalar(sessions, LOCK_WAITING))

            await _wait_for(waiting_for_the_org, seconds=60)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
            await user.rollback()

        async def campaign_ended() -> bool:
            nonlocal peak
            peak = max(peak, await scalar(sessions, IN_FLIGHT))
            status = await scalar(
                sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign_id
            )
            return status == "ended"

        await _wait_for(campaign_ended, seconds=90)
    finally:
        for process in (doomed, waiter):
            if process is not None:
                stop_process(process)
    assert waiter is not None
    assert waiter.returncode == 0
    assert 0 < peak <= 4
    await _assert_each_call_ended_and_dialed_at_most_once(sessions, 12)


# A worker whose write to `calls` has run and whose trigger waits to append its counter row
# (not its fold of the rows, which waits on the same table).
COUNTS_WAITING = (
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE a.datname = current_database() AND NOT l.granted"
    " AND l.relation = 'campaign_counts'::regclass AND a.query NOT LIKE '%WITH many AS%'"
)


async def test_a_worker_killed_between_its_calls_write_and_its_counter_row_counts_nothing(
    client, org, sessions, engine, database_url, tmp_path
):
    """The worst moment for the stored v2 counters: a worker's statement has changed its
    calls and its trigger is about to append what that changed to campaign_counts (the
    test holds that table locked, so the trigger waits there). The worker is killed: the
    calls' change and the counter row go together, so nothing is counted that did not
    happen; a new worker finishes the campaign with counters equal to a recount, and no call
    is dialed twice."""
    response = await client.post(
        "/campaigns", json=campaign_body(n=12, maxConcurrency=4), headers=org.headers
    )
    campaign_id = response.json()["id"]
    doomed = _worker(database_url, tmp_path)
    survivor = None
    try:

        async def dialing() -> bool:
            return bool(await scalar(sessions, MID_DIAL))

        await _wait_for(dialing, seconds=60)
        async with engine.connect() as user:
            await user.execute(text("LOCK TABLE campaign_counts IN ACCESS EXCLUSIVE MODE"))

            async def stuck_in_the_trigger() -> bool:
                return bool(await scalar(sessions, COUNTS_WAITING))

            await _wait_for(stuck_in_the_trigger, seconds=60)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
            await user.rollback()
        # Its server process, let go, finds no one to answer: nothing of it commits.
        async with sessions() as session:
            await assert_counters_hold(session)
        survivor = _worker(database_url, tmp_path)

        await _wait_for(_ended(sessions, campaign_id), seconds=90)
    finally:
        for process in (doomed, survivor):
            if process is not None:
                stop_process(process)
    assert survivor is not None
    assert survivor.returncode == 0
    await _assert_each_call_ended_and_dialed_at_most_once(sessions, 12)
    async with sessions() as session:
        await assert_counters_hold(session)
    got = await client.get(
        f"/v2/campaign/{campaign_id}", params={"includeCounters": "true"}, headers=org.headers
    )
    counters = got.json()["contactCounters"]
    assert counters["pending"] == counters["dispatched"] == 0
    assert sum(counters.values()) == 12
