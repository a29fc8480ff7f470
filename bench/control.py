"""What the campaign-control extensions cost, over the real API (in-process ASGI).

- create: a campaign of N customers without extensions, and with a callingWindow (each
  customer's time zones are looked up from its number) and a retryPlan;
- reads of a running campaign whose contacts have several attempts (a retry record for every
  fifth contact): the v1 body, the v2 summary with counters, a page of v2 contacts, and the
  progress report.

Prints the median, min and max of RUNS runs of each. Uses DATABASE_URL's server if set, else the
embedded PostgreSQL, in a scratch database of its own (migrated first, dropped at the end).

    python bench/control.py [--runs 5] [--customers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from scratch import scratch_database
from sqlalchemy import text

from campaign_service.api.app import create_app
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org
from campaign_service.settings import Settings

WINDOW = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "20:00",
    "fallbackTimeZone": "America/New_York",
}
RETRY_PLAN = {"retryOn": ["no-answer", "busy"], "maxAttempts": 3}
AREA_CODES = ("212", "415", "312", "713", "305", "206", "617", "303")


def body(customers: int, *, controlled: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": "bench",
        "assistantId": "asst_bench",
        "phoneNumberId": "pn_bench",
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
        "customers": [
            {"number": f"+1{AREA_CODES[i % 8]}55{i % 100000:05d}"[:12], "name": f"C {i}"}
            for i in range(customers)
        ],
    }
    if controlled:
        result.update(callingWindow=WINDOW, retryPlan=RETRY_PLAN)
    return result


async def timed(runs: int, step: Callable[[], Awaitable[Any]]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await step()
        seconds.append(time.perf_counter() - started)
    return seconds


def show(name: str, seconds: list[float]) -> None:
    print(
        f"{name:<44} median {statistics.median(seconds) * 1000:8.1f} ms"
        f"   min {min(seconds) * 1000:8.1f}   max {max(seconds) * 1000:8.1f}"
    )


async def _with_retries(url: str, campaign_id: str) -> None:
    """Start the campaign and give every fifth contact an ended first attempt and a retry."""
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE campaigns SET status = 'in-progress', started_at = now() WHERE id = :c"),
            {"c": campaign_id},
        )
        await conn.execute(
            text(
                """
                WITH first AS (
                    UPDATE calls SET status = 'ended', ended_reason = 'customer-busy',
                                     started_at = now() - interval '2 minutes',
                                     ended_at = now() - interval '1 minute'
                    WHERE campaign_id = :c AND position % 5 = 0 RETURNING *)
                INSERT INTO calls (id, campaign_id, org_id, position, phone_number_id, customer,
                                   status, attempt_number, contact_id, time_zones,
                                   next_attempt_at, window_closes_at)
                SELECT gen_random_uuid(), campaign_id, org_id, position, phone_number_id,
                       customer, 'scheduled', 2, id, time_zones, now() + interval '1 hour', now()
                FROM first
                """
            ),
            {"c": campaign_id},
        )
    await engine.dispose()


async def main(url: str, runs: int, customers: int) -> None:
    engine = create_engine(url, pool_size=1)
    async with unit_of_work(session_factory(engine)) as session:
        key = await create_org(session, name="bench", concurrency_limit=500)
    await engine.dispose()
    app = create_app(Settings(), database_url=url)
    headers = {"Authorization": f"Bearer {key.api_key}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            plain, controlled = body(customers, controlled=False), body(customers, controlled=True)
            created: list[str] = []

            async def create(payload: dict[str, Any]) -> None:
                response = await client.post("/campaigns", json=payload, headers=headers)
                assert response.status_code == 201, response.text
                created.append(response.json()["id"])

            print(f"{customers} customers, {runs} runs each")
            show("create, no extensions", await timed(runs, lambda: create(plain)))
            show("create, callingWindow + retryPlan", await timed(runs, lambda: create(controlled)))
            campaign = created[-1]
            await _with_retries(url, campaign)
            reads = {
                "GET /campaigns/{id} (with retries)": f"/campaigns/{campaign}",
                "GET /v2/campaign/{id}?includeCounters": (
                    f"/v2/campaign/{campaign}?includeCounters=true"
                ),
                "GET /v2/campaign/{id}/contacts (50)": f"/v2/campaign/{campaign}/contacts",
                "GET /campaigns/{id}/progress": f"/campaigns/{campaign}/progress",
            }
            for name, path in reads.items():

                async def read(path: str = path) -> None:
                    response = await client.get(path, headers=headers)
                    assert response.status_code == 200, response.text

                show(name, await timed(runs, read))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    with scratch_database() as database:
        asyncio.run(main(database, args.runs, args.customers))
