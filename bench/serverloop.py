"""The user's server in the loop: what a pre-dial check on every contact and every campaign
event cost in placements per second.

One `campaign-service worker` process (the `instant` provider: calls are answered and end at
once) runs a campaign of 10,000 contacts twice, interleaved: plain (the floor), and with a
local server (loopback, in this process) that answers every pre-dial check at once with
`{"eligible": true}` and receives every event type. Placements per second come from the
call_events history (first to last placement); the loaded run also waits for its events to
be delivered and prints how many were.

    python bench/serverloop.py [--calls 10000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch import scratch_database
from sqlalchemy import text

from campaign_service.campaigns.schemas import CreateCampaignDTO
from campaign_service.campaigns.service import create_campaign
from campaign_service.db.models import Org
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org
from tests.receiver import Received, Receiver, Reply

EVERY_EVENT = [
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
]
ELIGIBLE = Reply(body=b'{"eligible": true}')
EMPTY = Reply(body=b"{}")


def _answer(request: Received) -> Reply:
    return ELIGIBLE if b'"campaign.predial"' in request.body else EMPTY


class ServerThread:
    """The user's server, on its own event loop in a thread (the bench itself blocks)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.receiver = Receiver(_answer)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self.loop).result()
        return self.receiver

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


async def _seed(url: str, calls: int, server_url: str | None) -> None:
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    extra: dict[str, Any] = {}
    if server_url is not None:
        extra = {"server": {"url": server_url}, "predialPlan": {}, "serverMessages": EVERY_EVENT}
    async with unit_of_work(sessions) as session:
        key = await create_org(session, name="bench", concurrency_limit=4000)
        org = await session.get(Org, key.org_id)
        assert org is not None
        dto = CreateCampaignDTO(
            name="bench",
            assistantId="asst_bench",
            phoneNumberId="pn_bench",
            maxConcurrency=500,
            customers=[{"number": f"+1415{n:07d}"} for n in range(calls)],
            schedulePlan={"earliestAt": "2100-01-01T00:00:00Z"},
            **extra,
        )
        await create_campaign(session, org=org, dto=dto, now=datetime.now(UTC))
    await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        result = await conn.execute(text(sql))
        rows = [tuple(r) for r in result.all()] if result.returns_rows else []
    await engine.dispose()
    return rows


def _worker(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CAMPAIGN_SERVICE_PROVIDER": "instant",
        "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING",
        "CAMPAIGN_SERVICE_DB_POOL_SIZE": "10",
    }
    return subprocess.Popen([sys.executable, "-m", "campaign_service.cli", "worker"], env=env)


def _wait(url: str, sql: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if asyncio.run(_query(url, sql))[0][0] == 0:
            return
        time.sleep(0.2)
    raise SystemExit(f"not done in time: {sql}")


def run(calls: int, server_url: str | None) -> tuple[float, int]:
    """Placements per second, and events delivered."""
    with scratch_database("cs_bench_serverloop") as url:
        asyncio.run(_seed(url, calls, server_url))
        worker = _worker(url)
        try:
            time.sleep(2.0)  # the worker up and listening
            asyncio.run(_query(url, "UPDATE campaigns SET earliest_at = now()"))
            asyncio.run(_query(url, "SELECT pg_notify('campaign_service_dispatch', 'bench')"))
            _wait(url, "SELECT count(*) FROM campaigns WHERE status <> 'ended'", 900)
            _wait(url, "SELECT count(*) FROM event_outbox WHERE state = 'pending'", 900)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        ((first, last, placed),) = asyncio.run(
            _query(
                url,
                # A placement: the dispatcher's queued, or the provider's first report when
                # it came before (instant calls may end before the dial is recorded).
                "SELECT min(created_at), max(created_at), count(*) FROM call_events"
                " WHERE to_status = 'queued'"
                " OR (from_status = 'scheduled' AND source <> 'engine')",
            )
        )
        ((delivered,),) = asyncio.run(
            _query(url, "SELECT count(*) FROM event_outbox WHERE state = 'delivered'")
        )
    if placed != calls:
        raise SystemExit(f"placed {placed} of {calls}")
    return int(placed) / (last - first).total_seconds(), int(delivered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"server-in-the-loop benchmark ({os.cpu_count()} cores), instant provider")
    with ServerThread() as receiver:
        for round_ in range(args.rounds):
            plain, _ = run(args.calls, None)
            loaded, delivered = run(args.calls, receiver.url)
            print(
                f"  round {round_ + 1}: {args.calls} contacts  plain {plain:7.0f} placed/s  "
                f"pre-dial + every event {loaded:7.0f} placed/s  ratio {loaded / plain:.2f}  "
                f"({delivered} events delivered, "
                f"{len(receiver.received)} requests at the server so far)"
            )


if __name__ == "__main__":
    main()
