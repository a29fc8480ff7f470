"""Speed at the floor: the project's figures side by side with floors built on the same
machine and the same PostgreSQL (bench/floors.py), interleaved, in rounds; each figure is
reported with the median of its paired ratios (project cost / floor cost: 1.0 is the floor,
2.0 is twice its cost), since absolute figures on a shared machine move up to 2x.

    python bench/speed.py [--rounds 3] [--duration 5] [--only get50 get10k ...]

Needs `wrk` (Debian package `wrk`) for the HTTP figures. DATABASE_URL names the PostgreSQL
server (else the embedded one). Figures:
  get50       GET a campaign with 50 calls, req/s, one server process
  get10k      GET a campaign with 10,000 calls, median latency of sequential requests
  list        v1 list, limit 100 (campaigns of 10 calls), req/s
  list2       v2 list, limit 100, req/s;  list2c  the same with includeCounters=true
  health      GET /health, req/s
  create      POST a campaign of 10,000 customers (and the server's peak memory growth)
  dispatch    calls placed per second by 1 and 2 `worker` processes (instant provider), the
              cores one worker keeps busy, and how 2 workers scale when the provider takes
              200 ms per request (bound by the provider, not the CPU)
  nextdial    p95 delay from a call's end to the next call placed, 1 and 2 workers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from dispatch import _seed, measure, next_call_delay
from floors import copy_floor, lifecycle_floor, notify_floor, p95, store_documents
from scratch import scratch_database

from campaign_service.db.session import async_url, create_engine, session_factory, unit_of_work
from campaign_service.orgs.service import create_org

HERE = os.path.dirname(os.path.abspath(__file__))
# The dispatch run bound by the provider: each request to place a call takes this long.
PROVIDER_SECONDS = 0.2
PROVIDER_BOUND_CALLS = 4_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(command: list[str], url: str) -> Iterator[tuple[str, int]]:
    """A server subprocess on a free port; yields (base URL, pid) once /health answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([*command, "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(url: str, key: str, seconds: float, *, connections: int = 16) -> dict[str, float]:
    """Requests per second and median latency (ms) of `url` under wrk."""
    out = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t",
            str(min(2, connections)),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "-H",
            f"Authorization: Bearer {key}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url} answered errors under load:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    median = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    assert median is not None, out
    value, unit = float(median.group(1)), median.group(2)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rps": rate, "p50_ms": value * scale}


@dataclass
class Figure:
    name: str
    unit: str
    lower_is_better: bool
    project: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)

    def add(self, project: float, floor: float) -> None:
        self.project.append(project)
        self.floor.append(floor)

    def ratio(self) -> float:
        pairs = zip(self.project, self.floor, strict=True)
        return statistics.median(p / f if self.lower_is_better else f / p for p, f in pairs)

    def row(self) -> str:
        return (
            f"| {self.name} | {statistics.median(self.project):,.1f} {self.unit} "
            f"| {statistics.median(self.floor):,.1f} {self.unit} | {self.ratio():.2f}x |"
        )


@dataclass
class World:
    url: str
    key: str
    list_key: str
    small: str
    big: str
    org_id: uuid.UUID


async def _keys(url: str) -> tuple[str, str, uuid.UUID]:
    engine = create_engine(url, pool_size=1)
    async with unit_of_work(session_factory(engine)) as session:
        main = await create_org(session, name="speed", concurrency_limit=500)
        lists = await create_org(session, name="speed lists", concurrency_limit=500)
    await engine.dispose()
    return main.api_key, lists.api_key, main.org_id


def _body(n: int, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "assistantId": "asst_speed",
        "phoneNumberId": "pn_speed",
        "schedulePlan": {"earliestAt": "2100-01-01T00:00:00Z"},
        "customers": [
            {"number": f"+1415{i:07d}", "name": f"Customer {i}", "externalId": f"crm-{i}"}
            for i in range(n)
        ],
    }


def build_world(url: str, base: str) -> World:
    """Campaigns through the project's API: 50 calls, 10,000 calls, and 100 of 10 calls in a
    second org (for the lists); the floors store exactly the bodies the project answered."""
    key, list_key, org_id = asyncio.run(_keys(url))
    client = httpx.Client(base_url=base, timeout=120)

    def create(k: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/campaigns", json=body, headers={"Authorization": f"Bearer {k}"})
        assert response.status_code == 201, response.text[:300]
        return response.json()  # type: ignore[no-any-return]

    small = create(key, _body(50, "fifty"))
    big = create(key, _body(10_000, "ten thousand"))
    listed = [create(list_key, _body(10, f"list {i}")) for i in range(100)]
    docs = []
    for k, campaign in [(key, small), (key, big)] + [(list_key, c) for c in listed]:
        headers = {"Authorization": f"Bearer {k}"}
        v1 = client.get(f"/campaigns/{campaign['id']}", headers=headers).text
        v2 = client.get(
            f"/v2/campaign/{campaign['id']}", params={"includeCounters": "true"}, headers=headers
        ).text
        docs.append((campaign["id"], campaign["orgId"], campaign["createdAt"], v1, v2))
    dsn = async_url(url).set(drivername="postgresql").render_as_string(False)
    asyncio.run(store_documents(dsn, docs))
    return World(url, key, list_key, small["id"], big["id"], org_id)


def http_figures(
    world: World, project: str, floor: str, rounds: int, seconds: float, only: set[str]
) -> list[Figure]:
    checks: list[tuple[Figure, Callable[[], float], Callable[[], float]]] = []

    def add(
        name: str, unit: str, lower: bool, ours: Callable[[], float], theirs: Callable[[], float]
    ) -> None:
        if name.split(" ")[0] in only:
            checks.append((Figure(name, unit, lower), ours, theirs))

    k, lk = world.key, world.list_key
    add(
        "get50 (one-statement floor)",
        "req/s",
        False,
        lambda: wrk(f"{project}/campaigns/{world.small}", k, seconds)["rps"],
        lambda: wrk(f"{floor}/one-statement/campaigns/{world.small}", k, seconds)["rps"],
    )
    add(
        "get50 (stored-document floor)",
        "req/s",
        False,
        lambda: wrk(f"{project}/campaigns/{world.small}", k, seconds)["rps"],
        lambda: wrk(f"{floor}/stored/campaigns/{world.small}", k, seconds)["rps"],
    )
    add(
        "get10k",
        "ms",
        True,
        lambda: wrk(f"{project}/campaigns/{world.big}", k, seconds, connections=1)["p50_ms"],
        lambda: wrk(f"{floor}/stored/campaigns/{world.big}", k, seconds, connections=1)["p50_ms"],
    )
    add(
        "list",
        "req/s",
        False,
        lambda: wrk(f"{project}/campaigns?limit=100", lk, seconds)["rps"],
        lambda: wrk(f"{floor}/stored/campaigns?limit=100", lk, seconds)["rps"],
    )
    add(
        "list2",
        "req/s",
        False,
        lambda: wrk(f"{project}/v2/campaign?limit=100", lk, seconds)["rps"],
        lambda: wrk(f"{floor}/stored/v2/campaign?limit=100", lk, seconds)["rps"],
    )
    add(
        "list2c",
        "req/s",
        False,
        lambda: wrk(f"{project}/v2/campaign?limit=100&includeCounters=true", lk, seconds)["rps"],
        lambda: wrk(f"{floor}/stored/v2/campaign?limit=100", lk, seconds)["rps"],
    )
    add(
        "health",
        "req/s",
        False,
        lambda: wrk(f"{project}/health", k, seconds)["rps"],
        lambda: wrk(f"{floor}/health", k, seconds)["rps"],
    )
    for round_ in range(rounds):
        for figure, ours, theirs in checks:
            # Alternate which side goes first, so a drift in the machine's load cancels out.
            if round_ % 2:
                floor_value = theirs()
                project_value = ours()
            else:
                project_value = ours()
                floor_value = theirs()
            figure.add(project_value, floor_value)
    return [figure for figure, _, _ in checks]


def _rss_kb(pid: int, field_name: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field_name):
                return int(line.split()[1])
    raise RuntimeError(field_name)


def create_figure(world: World, base: str, pid: int, rounds: int) -> tuple[Figure, list[float]]:
    figure, growth = Figure("create10k", "ms", True), []
    client = httpx.Client(base_url=base, timeout=120)
    dsn = async_url(world.url).set(drivername="postgresql").render_as_string(False)
    for round_ in range(rounds):
        payload = json.dumps(_body(10_000, f"create {round_}")).encode()
        headers = {"Authorization": f"Bearer {world.key}", "Content-Type": "application/json"}
        before = _rss_kb(pid, "VmRSS")
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak (VmHWM) to the current size
        started = time.perf_counter()
        response = client.post("/campaigns", content=payload, headers=headers)
        ours = time.perf_counter() - started
        assert response.status_code == 201, response.text[:300]
        growth.append((_rss_kb(pid, "VmHWM") - before) / 1024)
        theirs = asyncio.run(copy_floor(dsn, world.org_id, 10_000))
        figure.add(ours * 1000, theirs * 1000)
    return figure, growth


def dispatch_figures(url: str, rounds: int, calls: int) -> list[Figure]:
    one, two = (
        Figure("dispatch 1 worker", "calls/s", False),
        Figure("dispatch 2 workers", "calls/s", False),
    )
    scaling: list[float] = []
    busy: list[float] = []
    bound: list[float] = []  # 2 workers / 1 worker when the provider's latency is the bound
    for _ in range(rounds):
        floor = _lifecycle_floor(calls)
        run1, run2 = measure(1, calls), measure(2, calls)
        one.add(run1.rate, floor)
        two.add(run2.rate, floor)
        scaling.append(run2.rate / run1.rate)
        busy.append(run1.busy_cores)
        slow1, slow2 = (measure(w, PROVIDER_BOUND_CALLS, PROVIDER_SECONDS) for w in (1, 2))
        bound.append(slow2.rate / slow1.rate)
    cores = os.cpu_count() or 1
    print(f"  2 workers / 1 worker: median {statistics.median(scaling):.2f}x")
    print(
        f"  one worker keeps {statistics.median(busy):.2f} of {cores} cores busy (it and"
        f" PostgreSQL): two can reach at most {cores / statistics.median(busy):.2f}x here"
    )
    print(
        f"  2 workers / 1 worker, provider taking {PROVIDER_SECONDS * 1000:.0f} ms per"
        f" request: median {statistics.median(bound):.2f}x"
    )
    return [one, two]


def _lifecycle_floor(calls: int) -> float:
    """The floor over the same number of calls, in campaigns of at most 10,000 customers (the
    API's limit), claimed one campaign after another."""
    sizes = [min(10_000, calls - n) for n in range(0, calls, 10_000)]
    with scratch_database("cs_speed_floor") as url:
        asyncio.run(_seed(url, [(size, 500) for size in sizes], org_limit=4000))
        dsn = async_url(url).set(drivername="postgresql").render_as_string(False)
        seconds = sum(
            size / asyncio.run(lifecycle_floor(dsn, campaign))
            for size, campaign in zip(sizes, asyncio.run(_campaigns(dsn)), strict=True)
        )
        return calls / seconds


async def _campaigns(dsn: str) -> list[uuid.UUID]:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return [r["id"] for r in await connection.fetch("SELECT id FROM campaigns ORDER BY name")]
    finally:
        await connection.close()


async def _only_campaign(dsn: str) -> uuid.UUID:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval("SELECT id FROM campaigns")  # type: ignore[no-any-return]
    finally:
        await connection.close()


def nextdial_figures(rounds: int, chain: int) -> list[Figure]:
    figures = [Figure(f"nextdial p95 {w} worker(s)", "ms", True) for w in (1, 2)]
    for _ in range(rounds):
        floor = p95(_notify_floor(chain)) * 1000
        for workers, figure in zip((1, 2), figures, strict=True):
            figure.add(p95(next_call_delay(workers, chain)) * 1000, floor)
    return figures


def _notify_floor(chain: int) -> list[float]:
    with scratch_database("cs_speed_floor") as url:
        asyncio.run(_seed(url, [(chain, 1)], org_limit=10))
        dsn = async_url(url).set(drivername="postgresql").render_as_string(False)
        campaign = asyncio.run(_only_campaign(dsn))
        return asyncio.run(notify_floor(dsn, campaign, rounds=chain - 1))


ALL = ["get50", "get10k", "list", "list2", "list2c", "health", "create", "dispatch", "nextdial"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per dispatch run")
    parser.add_argument("--chain", type=int, default=250, help="calls per next-dial run")
    parser.add_argument("--only", nargs="+", default=ALL, choices=ALL)
    args = parser.parse_args()
    only = set(args.only)
    figures: list[Figure] = []
    with scratch_database("cs_speed") as url:
        project_cmd = [sys.executable, "-m", "campaign_service.cli", "serve", "--no-dispatcher"]
        floor_cmd = [sys.executable, os.path.join(HERE, "floors.py"), "serve"]
        with server(project_cmd, url) as (project, pid):
            world = build_world(url, project)
            with server(floor_cmd, url) as (floor, _):
                figures += http_figures(world, project, floor, args.rounds, args.duration, only)
            if "create" in only:
                create, growth = create_figure(world, project, pid, args.rounds)
                figures.append(create)
                print(
                    f"  create10k server peak memory growth: median "
                    f"{statistics.median(growth):.1f} MB (max {max(growth):.1f} MB)"
                )
    if "dispatch" in only:
        figures += dispatch_figures(url, args.rounds, args.calls)
    if "nextdial" in only:
        figures += nextdial_figures(args.rounds, args.chain)
    print(f"\n{args.rounds} rounds, {os.cpu_count()} cores; ratio = project cost / floor cost\n")
    print("| figure | project | floor | ratio |")
    print("|---|---|---|---|")
    for figure in figures:
        print(figure.row())


if __name__ == "__main__":
    main()
