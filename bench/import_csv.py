"""CSV import benchmark: a 10,000-row audience as users have them (national numbers, stray
spaces, extra columns), parsed and checked alone, then imported whole over the API.

Prints the median, min and max of RUNS runs of each step:
  parse+validate  campaign_service.audiences.csv_import.parse_audience on the bytes
  dry run         POST /campaigns/import?dryRun=true (parse, checks, do-not-call lookup)
  import          POST /campaigns/import (the above, then the campaign and its calls stored)
The app runs in-process behind httpx.ASGITransport; with --http it is also measured behind a
real uvicorn server (`campaign-service serve --no-dispatcher` in a subprocess).

    python bench/import_csv.py [--http] [--runs 5] [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable

import httpx
from create_campaign import _new_api_key, uvicorn_server
from scratch import scratch_database

from campaign_service.api.app import create_app
from campaign_service.audiences.csv_import import parse_audience
from campaign_service.settings import Settings

CONFIG = json.dumps(
    {
        "name": "bench import",
        "assistantId": "asst_bench",
        "phoneNumberId": "pn_bench",
        # Far in the future, so a dispatcher (if any) leaves the calls alone.
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
    }
)


def audience_csv(rows: int) -> bytes:
    """National-format numbers (US), quoted names with commas, two variables, an email."""
    lines = ["number,name,email,plan,city"]
    for i in range(rows):
        area = 200 + i // 10_000
        lines.append(
            f' ({area}) 555-{i % 10_000:04d} ,"Customer, {i}",c{i}@example.com,'
            f"{('gold', 'silver', '')[i % 3]},City {i % 97}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def timed(step: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time is what other load cannot inflate)."""
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return wall, cpu


async def http_steps(client: httpx.AsyncClient, key: str, data: bytes, runs: int) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    results: dict[str, list[float]] = {"dry run": [], "import": []}
    for _ in range(runs):
        for step, params in (("dry run", {"dryRun": "true"}), ("import", {})):
            started = time.perf_counter()
            response = await client.post(
                "/campaigns/import",
                params={"defaultRegion": "US", **params},
                files={"file": ("audience.csv", data, "text/csv")},
                data={"config": CONFIG},
                headers=headers,
            )
            results[step].append(time.perf_counter() - started)
            assert response.status_code in (200, 201), response.text[:500]
            if step == "import":
                assert response.json()["importReport"]["contacts"] == len(data.splitlines()) - 1
    return results


async def in_process(url: str, key: str, data: bytes, runs: int) -> dict:
    app = create_app(Settings(), database_url=url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b", timeout=120) as c:
            return await http_steps(c, key, data, runs)


async def over_http(url: str, key: str, data: bytes, runs: int) -> dict:
    async with uvicorn_server(url) as base, httpx.AsyncClient(base_url=base, timeout=120) as c:
        return await http_steps(c, key, data, runs)


def report(mode: str, step: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{mode:<10} {step:<15} median {statistics.median(ms):7.1f} ms"
        f"  (min {min(ms):7.1f}, max {max(ms):7.1f}, n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true", help="also measure through uvicorn")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    data = audience_csv(args.rows)
    print(f"{args.rows} rows, {len(data) / 1e6:.2f} MB, {args.runs} runs per step")
    parsed = parse_audience(data, default_region="US", dedupe=False)
    assert not parsed.row_errors, parsed.row_errors[:3]
    assert len(parsed.contacts) == args.rows
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    wall, cpu = timed(lambda: parse_audience(data, default_region="US", dedupe=False), args.runs)
    report("pure", "parse+validate", wall)
    report("pure", "  (CPU time)", cpu)
    with scratch_database("cs_bench_import") as url:
        key = asyncio.run(_new_api_key(url))
        for step, seconds in asyncio.run(in_process(url, key, data, args.runs)).items():
            report("in-process", step, seconds)
        if args.http:
            for step, seconds in asyncio.run(over_http(url, key, data, args.runs)).items():
                report("uvicorn", step, seconds)


if __name__ == "__main__":
    main()
