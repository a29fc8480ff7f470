"""/metrics scrape time over a large history: N calls in many campaigns, most of them ended.

Builds a scratch database (DATABASE_URL's server, else the embedded PostgreSQL), fills it with
`--calls` call records through SQL (`--live` campaigns still running, the rest ended), then
times GET /metrics through the app, median of `--rounds`.

    python bench/metrics_scrape.py [--calls 400000] [--per-campaign 10000] [--live 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from scratch import scratch_database
from sqlalchemy import text

from campaign_service.api.app import create_app
from campaign_service.db.session import create_engine
from campaign_service.settings import Settings

_FILL = """
WITH org AS (
    INSERT INTO orgs (id, name, concurrency_limit) VALUES (gen_random_uuid(), 'bench', 10)
    RETURNING id
), campaign AS (
    INSERT INTO campaigns (id, org_id, name, status, max_concurrency, created_at, updated_at)
    SELECT gen_random_uuid(), org.id, 'bench ' || n,
           CASE WHEN n < :live THEN 'in-progress' ELSE 'ended' END, 10, now(), now()
    FROM org, generate_series(0, :campaigns - 1) AS n
    RETURNING id, org_id, status
)
INSERT INTO calls (id, campaign_id, org_id, position, phone_number_id, customer, status,
                   ended_reason, created_at, updated_at)
SELECT gen_random_uuid(), c.id, c.org_id, p, 'pn_bench', '{"number": "+14155550100"}',
       CASE WHEN c.status = 'ended' OR p % 3 = 0 THEN 'ended' ELSE 'scheduled' END,
       CASE WHEN c.status = 'ended' OR p % 3 = 0 THEN 'customer-ended-call' END, now(), now()
FROM campaign c, generate_series(0, :per_campaign - 1) AS p
"""


async def _fill(url: str, calls: int, per_campaign: int, live: int) -> None:
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            text(_FILL),
            {"campaigns": calls // per_campaign, "per_campaign": per_campaign, "live": live},
        )
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def _scrape(url: str, rounds: int) -> list[float]:
    app = create_app(Settings(), database_url=url)
    timings = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(rounds):
                started = time.perf_counter()
                response = await client.get("/metrics")
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    return timings


def minmax(values: list[float]) -> tuple[float, float]:
    return min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=400_000)
    parser.add_argument("--per-campaign", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=2, help="campaigns still in progress")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with scratch_database("cs_bench_metrics") as url:
        started = time.perf_counter()
        asyncio.run(_fill(url, args.calls, args.per_campaign, args.live))
        print(f"filled {args.calls:,} calls in {time.perf_counter() - started:.1f} s")
        timings = asyncio.run(_scrape(url, args.rounds))
        median, low, high = (x * 1000 for x in (statistics.median(timings), *minmax(timings)))
        print(
            f"GET /metrics over {args.calls:,} calls: median {median:.1f} ms,"
            f" min {low:.1f} ms, max {high:.1f} ms"
        )


if __name__ == "__main__":
    main()
