"""Dispatch benchmark: placement throughput and end-to-next-placement delay.

Runs real `campaign-service worker` processes (the `instant` provider: calls are answered and
end at once) against a scratch database, then reads the timings back from the call_events
history. Uses DATABASE_URL's server if set, else the embedded PostgreSQL.

    python bench/dispatch.py [--workers 1 2 4] [--calls 20000] [--chain 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

from scratch import scratch_database
from sqlalchemy import text

from campaign_service.campaigns.schemas import CreateCampaignDTO
from campaign_service.campaigns.service import create_campaign
from campaign_service.db.models import Org
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org


async def _seed(url: str, campaigns: list[tuple[int, int]], org_limit: int) -> None:
    """One org and paused campaigns (scheduled far ahead) of (customers, maxConcurrency)."""
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        key = await create_org(session, name="bench", concurrency_limit=org_limit)
        org = await session.get(Org, key.org_id)
        assert org is not None
        for i, (customers, limit) in enumerate(campaigns):
            dto = CreateCampaignDTO(
                name=f"bench {i}",
                assistantId="asst_bench",
                phoneNumberId="pn_bench",
                maxConcurrency=limit,
                customers=[{"number": f"+1415{n:07d}"} for n in range(customers)],
                schedulePlan={"earliestAt": "2100-01-01T00:00:00Z"},
            )
            await create_campaign(session, org=org, dto=dto, now=datetime.now(UTC))
    await engine.dispose()


async def _release(url: str) -> None:
    """Start every campaign now (the workers are already waiting)."""
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE campaigns SET earliest_at = now()"))
        await conn.execute(text("SELECT pg_notify('campaign_service_dispatch', 'bench')"))
    await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as conn:
        result = [tuple(r) for r in (await conn.execute(text(sql))).all()]
    await engine.dispose()
    return result


def _start_workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CAMPAIGN_SERVICE_PROVIDER": "instant",
        "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING",
        "CAMPAIGN_SERVICE_DB_POOL_SIZE": "10",
    }
    return [
        subprocess.Popen([sys.executable, "-m", "campaign_service.cli", "worker"], env=env)
        for _ in range(count)
    ]


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def _wait_all_ended(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = asyncio.run(_query(url, "SELECT count(*) FROM campaigns WHERE status <> 'ended'"))
        if left[0][0] == 0:
            return
        time.sleep(0.2)
    raise SystemExit("campaigns did not finish in time")


def throughput(workers: int, calls: int) -> float:
    """Calls placed per second while a backlog exists (first to last placement)."""
    per_campaign = calls // 8
    with scratch_database("cs_bench_dispatch") as url:
        asyncio.run(_seed(url, [(per_campaign, 500)] * 8, org_limit=4000))
        procs = _start_workers(url, workers)
        try:
            time.sleep(2.0)  # workers up and listening
            asyncio.run(_release(url))
            _wait_all_ended(url, timeout=600)
        finally:
            _stop(procs)
        ((first, last, placed),) = asyncio.run(
            _query(
                url,
                "SELECT min(created_at), max(created_at), count(*) FROM call_events "
                "WHERE to_status = 'queued' OR (from_status = 'scheduled' AND source <> 'engine')",
            )
        )
    seconds = (last - first).total_seconds()  # type: ignore[operator]
    return int(placed) / seconds  # type: ignore[call-overload]


def next_call_delay(workers: int, chain: int) -> list[float]:
    """Seconds from each call's end to the next call of the same campaign being placed, for
    campaigns that dial one call at a time."""
    with scratch_database("cs_bench_dispatch") as url:
        asyncio.run(_seed(url, [(chain, 1)] * 4, org_limit=10))
        procs = _start_workers(url, workers)
        try:
            time.sleep(2.0)
            asyncio.run(_release(url))
            _wait_all_ended(url, timeout=600)
        finally:
            _stop(procs)
        gaps = asyncio.run(
            _query(
                url,
                """
            WITH ends AS (
                SELECT e.campaign_id, e.created_at AS ended_at, k.position
                FROM call_events e JOIN calls k ON k.id = e.call_id WHERE e.to_status = 'ended'
            ), starts AS (
                SELECT e.campaign_id, e.created_at AS placed_at, k.position
                FROM call_events e JOIN calls k ON k.id = e.call_id
                WHERE e.from_status = 'scheduled'
            )
            SELECT EXTRACT(EPOCH FROM s.placed_at - e.ended_at)
            FROM ends e JOIN starts s
              ON s.campaign_id = e.campaign_id AND s.position = e.position + 1
            """,
            )
        )
    return [float(g[0]) for g in gaps]  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--chain", type=int, default=250)
    args = parser.parse_args()
    print(f"dispatch benchmark ({os.cpu_count()} cores), instant provider")
    for workers in args.workers:
        rate = throughput(workers, args.calls)
        print(f"  throughput  workers={workers}  {args.calls} calls  {rate:8.0f} calls placed/s")
    for workers in args.workers:
        gaps = sorted(next_call_delay(workers, args.chain))
        p50 = statistics.median(gaps)
        p95 = gaps[int(len(gaps) * 0.95) - 1]
        print(
            f"  next-call delay  workers={workers}  n={len(gaps)}  "
            f"p50={p50 * 1000:6.1f} ms  p95={p95 * 1000:6.1f} ms  max={gaps[-1] * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
