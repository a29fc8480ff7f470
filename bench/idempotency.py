"""Idempotency-Key cost: a create with a new key, and a replay, against a create without a key
measured in the same run (interleaved rounds, so the machine's noise hits all three alike).

The app runs in-process behind httpx.ASGITransport on a scratch database (DATABASE_URL's
server, else the embedded PostgreSQL). Prints the median per request of each kind and its
ratio to the create without a key.

    python bench/idempotency.py [--rounds 15] [--per-round 20] [--customers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid

import httpx
from scratch import scratch_database

from campaign_service.api.app import create_app
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org
from campaign_service.settings import Settings


async def _api_key(url: str) -> str:
    engine = create_engine(url, pool_size=1)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            key = await create_org(session, name="bench", concurrency_limit=500)
    finally:
        await engine.dispose()
    return key.api_key


def _body(customers: int) -> dict[str, object]:
    return {
        "name": "bench",
        "assistantId": "asst_bench",
        "phoneNumberId": "pn_bench",
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
        "customers": [{"number": f"+1415{i:07d}"} for i in range(customers)],
    }


async def _timed(
    client: httpx.AsyncClient, body: dict[str, object], headers: dict[str, str]
) -> float:
    started = time.perf_counter()
    response = await client.post("/campaigns", json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    return elapsed


async def run(url: str, rounds: int, per_round: int, customers: int) -> None:
    api_key = await _api_key(url)
    app = create_app(Settings(), database_url=url)
    body = _body(customers)
    auth = {"Authorization": f"Bearer {api_key}"}
    times: dict[str, list[float]] = {"no key (floor)": [], "new key": [], "replay": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            replayed_key = str(uuid.uuid4())
            await client.post(
                "/campaigns", json=body, headers={**auth, "Idempotency-Key": replayed_key}
            )
            for _ in range(rounds):
                for _ in range(per_round):
                    times["no key (floor)"].append(await _timed(client, body, auth))
                    fresh = {**auth, "Idempotency-Key": str(uuid.uuid4())}
                    times["new key"].append(await _timed(client, body, fresh))
                    again = {**auth, "Idempotency-Key": replayed_key}
                    times["replay"].append(await _timed(client, body, again))
    floor = statistics.median(times["no key (floor)"])
    print(f"POST /campaigns, {customers} customers, {rounds * per_round} requests of each kind")
    for kind, samples in times.items():
        median = statistics.median(samples)
        print(f"  {kind:16} median {median * 1000:7.2f} ms   ratio to floor {median / floor:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--customers", type=int, default=10)
    args = parser.parse_args()
    with scratch_database("cs_bench_idem") as url:
        asyncio.run(run(url, args.rounds, args.per_round, args.customers))


if __name__ == "__main__":
    sys.exit(main())
