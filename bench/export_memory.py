"""Export benchmark: peak memory of the server process while it streams a campaign's export.

Creates campaigns of 1,000 and 10,000 contacts (each with two variables), starts
`campaign-service serve --no-dispatcher` in a subprocess, and for each request resets the
server's peak resident set size (Linux: /proc/PID/clear_refs) and reads it back afterwards
(VmHWM). A streamed export should peak at the same level whatever the audience size; the
full-body GET /campaigns/{id} is measured alongside for contrast. Linux only.

    python bench/export_memory.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import httpx
from create_campaign import _new_api_key, uvicorn_server
from scratch import scratch_database

from campaign_service.api.app import create_app
from campaign_service.settings import Settings


def body(size: int) -> dict[str, object]:
    return {
        "name": f"export {size}",
        "assistantId": "asst_bench",
        "phoneNumberId": "pn_bench",
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
        "customers": [
            {
                "number": f"+1415{i:07d}",
                "name": f"Customer {i}",
                "assistantOverrides": {"variableValues": {"plan": "gold", "city": f"C{i % 50}"}},
            }
            for i in range(size)
        ],
    }


async def create_campaigns(url: str, key: str, sizes: list[int]) -> dict[int, str]:
    app = create_app(Settings(), database_url=url)
    headers = {"Authorization": f"Bearer {key}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b", timeout=120) as c:
            created = {}
            for size in sizes:
                response = await c.post("/campaigns", json=body(size), headers=headers)
                assert response.status_code == 201, response.text[:300]
                created[size] = response.json()["id"]
            return created


def server_pid() -> int:
    """The serve subprocess: the one child of this process."""
    mine = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == mine:
            return int(stat.parent.name)
    raise RuntimeError("no server process found")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS := current RSS


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


async def peak_during(client: httpx.AsyncClient, pid: int, path: str, headers: dict) -> tuple:
    before = memory_kb(pid, "VmRSS")
    reset_peak(pid)
    started = time.perf_counter()
    received = 0
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for chunk in response.aiter_bytes():
            received += len(chunk)
    return before, memory_kb(pid, "VmHWM"), received, time.perf_counter() - started


async def measure(url: str, key: str, campaigns: dict[int, str]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with uvicorn_server(url) as base, httpx.AsyncClient(base_url=base, timeout=120) as c:
        pid = server_pid()
        smallest = campaigns[min(campaigns)]
        await peak_during(c, pid, f"/campaigns/{smallest}/export", headers)  # warm-up
        baseline = memory_kb(pid, "VmRSS")
        print(f"server RSS after warm-up: {baseline / 1024:.1f} MB")
        steps = [(f"export csv {n}", f"/campaigns/{i}/export") for n, i in campaigns.items()]
        steps += [
            (f"export ndjson {n}", f"/campaigns/{i}/export?format=ndjson")
            for n, i in campaigns.items()
        ]
        steps += [(f"GET campaign {n}", f"/campaigns/{i}") for n, i in campaigns.items()]
        for name, path in steps:
            before, peak, size, seconds = await peak_during(c, pid, path, headers)
            print(
                f"{name:<20} peak RSS {peak / 1024:6.1f} MB, +{(peak - before) / 1024:5.1f} MB"
                f" over the RSS before it  (body {size / 1e6:5.2f} MB, {seconds * 1000:4.0f} ms)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    with scratch_database("cs_bench_export") as url:
        key = asyncio.run(_new_api_key(url))
        campaigns = asyncio.run(create_campaigns(url, key, sorted(args.sizes)))
        asyncio.run(measure(url, key, campaigns))


if __name__ == "__main__":
    main()
