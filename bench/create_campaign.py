"""Create-and-read-back benchmark: one campaign of 10,000 customers, over the real API.

Creates the campaign, GETs it back and lists it (`GET /campaigns?id=...`), RUNS times each,
and prints the median, min and max of each step with the request and response sizes. The
app runs in-process behind httpx.ASGITransport; with --http it is also measured behind a real
uvicorn server (`campaign-service serve --no-dispatcher` in a subprocess, on a free port).

Uses DATABASE_URL's server if set, else the embedded PostgreSQL, and works in a scratch
database of its own that is migrated first and dropped at the end.

    python bench/create_campaign.py [--http] [--runs 5] [--customers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from scratch import scratch_database

from campaign_service.api.app import create_app
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org
from campaign_service.settings import Settings


async def _new_api_key(url: str) -> str:
    engine = create_engine(url, pool_size=1)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            key = await create_org(session, name="bench", concurrency_limit=500)
    finally:
        await engine.dispose()
    return key.api_key


def campaign_body(customers: int, run: int) -> dict[str, object]:
    return {
        "name": f"bench {run}",
        "assistantId": "asst_bench",
        "phoneNumberId": "pn_bench",
        # Far in the future, so a dispatcher (if any) leaves the calls alone while we measure.
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
        "customers": [
            {"number": f"+1415{i:07d}", "name": f"Customer {i}", "externalId": f"crm-{i}"}
            for i in range(customers)
        ],
    }


@dataclass
class Step:
    seconds: list[float] = field(default_factory=list)
    request_bytes: int = 0
    response_bytes: int = 0


async def measure(
    client: httpx.AsyncClient, api_key: str, *, runs: int, customers: int
) -> dict[str, Step]:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    steps = {"create": Step(), "get": Step(), "list": Step()}
    for run in range(runs):
        payload = json.dumps(campaign_body(customers, run)).encode()
        started = time.perf_counter()
        created = await client.post("/campaigns", content=payload, headers=headers)
        steps["create"].seconds.append(time.perf_counter() - started)
        assert created.status_code == 201, created.text[:500]
        campaign_id = created.json()["id"]
        steps["create"].request_bytes = len(payload)
        steps["create"].response_bytes = len(created.content)

        started = time.perf_counter()
        got = await client.get(f"/campaigns/{campaign_id}", headers=headers)
        steps["get"].seconds.append(time.perf_counter() - started)
        assert got.status_code == 200, got.text[:500]
        assert len(got.json()["calls"]) == customers
        steps["get"].response_bytes = len(got.content)

        started = time.perf_counter()
        listed = await client.get("/campaigns", params={"id": campaign_id}, headers=headers)
        steps["list"].seconds.append(time.perf_counter() - started)
        assert listed.status_code == 200, listed.text[:500]
        assert [c["id"] for c in listed.json()["results"]] == [campaign_id]
        steps["list"].response_bytes = len(listed.content)
    return steps


async def in_process(url: str, api_key: str, *, runs: int, customers: int) -> dict[str, Step]:
    app = create_app(Settings(), database_url=url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=120
        ) as client:
            return await measure(client, api_key, runs=runs, customers=customers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def uvicorn_server(url: str) -> AsyncIterator[str]:
    """`campaign-service serve` in a subprocess; yields its base URL once /health answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "campaign_service.cli",
        "serve",
        "--no-dispatcher",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"server exited with {process.returncode}")
                try:
                    if (await probe.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not become healthy in 30 s")
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def over_http(url: str, api_key: str, *, runs: int, customers: int) -> dict[str, Step]:
    async with uvicorn_server(url) as base, httpx.AsyncClient(base_url=base, timeout=120) as c:
        return await measure(c, api_key, runs=runs, customers=customers)


def report(mode: str, steps: dict[str, Step]) -> None:
    for name, step in steps.items():
        ms = [s * 1000 for s in step.seconds]
        sizes = f"response {step.response_bytes / 1e6:6.2f} MB"
        if step.request_bytes:
            sizes += f", request {step.request_bytes / 1e6:.2f} MB"
        print(
            f"{mode:<10} {name:<7} median {statistics.median(ms):7.1f} ms"
            f"  (min {min(ms):7.1f}, max {max(ms):7.1f}, n={len(ms)})  {sizes}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--http", action="store_true", help="also measure through a real uvicorn server"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()

    with scratch_database("cs_bench_create") as url:
        api_key = asyncio.run(_new_api_key(url))
        print(f"{args.customers} customers, {args.runs} runs per step")
        report(
            "in-process",
            asyncio.run(in_process(url, api_key, runs=args.runs, customers=args.customers)),
        )
        if args.http:
            report(
                "uvicorn",
                asyncio.run(over_http(url, api_key, runs=args.runs, customers=args.customers)),
            )


if __name__ == "__main__":
    main()
