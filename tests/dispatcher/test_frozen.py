"""A dispatcher frozen in the middle of a transaction (a stopped or hung process) does not
stop the others: the server ends its idle transaction after
`dispatcher_idle_transaction_seconds`, and the locks it held (the org's claim lock, call
rows) go back to them. Nothing of the frozen transaction is kept, so no call is lost or
dialed twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time

import pytest
from sqlalchemy.exc import DBAPIError

from campaign_service.calls import repository as calls
from campaign_service.db.session import session_factory, unit_of_work
from campaign_service.dispatcher import scheduler
from campaign_service.dispatcher.runner import dispatcher_engine
from campaign_service.settings import Settings
from tests.conftest import campaign_body
from tests.dispatcher.conftest import scalar, stop_process
from tests.dispatcher.test_crash import (
    _assert_each_call_ended_and_dialed_at_most_once,
    _ended,
    _wait_for,
    _worker,
)

IDLE_IN_TRANSACTION = """
    SELECT count(*) FROM pg_stat_activity
    WHERE application_name = :name AND state = 'idle in transaction'"""


def _name(pid: int) -> str:
    return f"campaign-service dispatch (pid {pid})"


async def test_a_claim_frozen_holding_the_org_lock_is_ended_and_another_claims(
    client, org, clock, sessions, database_url, make_dispatcher, simulated
):
    """The worst moment: a dispatcher froze right after locking the org to claim. Another
    dispatcher waits for that lock (every org with due calls is locked), and gets it once the
    server ends the frozen transaction."""
    await client.post("/campaigns", json=campaign_body(n=3), headers=org.headers)
    async with unit_of_work(sessions) as session:
        assert await scheduler.activate_due_campaigns(session, now=clock())
    engine = dispatcher_engine(database_url, Settings(dispatcher_idle_transaction_seconds=1.0))
    try:
        async with session_factory(engine)() as frozen:
            locked = await calls.lock_org_to_claim(frozen, now=clock())
            locked_at = time.monotonic()
            assert str(locked.org_id) == org.org_id
            # Its connection says who it is, and that it sits in a transaction.
            assert await scalar(sessions, IDLE_IN_TRANSACTION, name=_name(os.getpid())) == 1
            other = await make_dispatcher(simulated())
            report = await asyncio.wait_for(other.tick(maintenance=False), timeout=20)
            assert report.claimed == 3
            assert report.placed == 3
            # It claimed once the server had ended the frozen transaction (idle for 1 s).
            assert time.monotonic() - locked_at >= 0.9
            # The frozen transaction is gone: its next statement finds its session ended.
            with pytest.raises(DBAPIError):
                await calls.lock_org_to_claim(frozen, now=clock())
    finally:
        await engine.dispose()


async def test_a_worker_frozen_mid_transaction_does_not_stop_the_others(
    client, org, sessions, database_url, tmp_path
):
    """A real worker is stopped (SIGSTOP) at a random moment when it has a transaction open.
    A second worker finishes the campaign while the first stays frozen; the first, let go,
    finds its connection ended and stops cleanly. Every call ended, none dialed twice."""
    response = await client.post(
        "/campaigns", json=campaign_body(n=100, maxConcurrency=10), headers=org.headers
    )
    campaign_id = response.json()["id"]
    env = {
        "CAMPAIGN_SERVICE_DISPATCHER_IDLE_TRANSACTION_SECONDS": "1.5",
        "CAMPAIGN_SERVICE_SIM_DIAL_LATENCY_SECONDS": "0.05",
    }
    frozen = _worker(database_url, tmp_path, **env)
    survivor = None
    rng = random.Random(11)
    try:
        caught = False
        for _ in range(600):
            frozen.send_signal(signal.SIGSTOP)
            await asyncio.sleep(0.1)
            if await scalar(sessions, IDLE_IN_TRANSACTION, name=_name(frozen.pid)):
                caught = True
                break
            frozen.send_signal(signal.SIGCONT)
            await asyncio.sleep(rng.uniform(0.005, 0.05))
        assert caught, "never caught the worker with a transaction open"
        open_calls = "SELECT count(*) FROM calls WHERE status <> 'ended'"
        assert await scalar(sessions, open_calls) > 0  # frozen with work left to do
        survivor = _worker(database_url, tmp_path, **env)

        async def released() -> bool:
            return not await scalar(sessions, IDLE_IN_TRANSACTION, name=_name(frozen.pid))

        await _wait_for(released, seconds=20)
        await _wait_for(_ended(sessions, campaign_id), seconds=120)
        assert frozen.poll() is None  # still frozen: the survivor did it alone
    finally:
        frozen.send_signal(signal.SIGCONT)
        for process in (frozen, survivor):
            if process is not None:
                stop_process(process)
    assert survivor is not None
    assert survivor.returncode == 0
    assert frozen.returncode == 0
    await _assert_each_call_ended_and_dialed_at_most_once(sessions, 100)
