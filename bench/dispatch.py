"""Dispatch benchmark: placement throughput and end-to-next-placement delay.

Runs real `campaign-service worker` processes (the `instant` provider: calls are answered and
end at once) against a scratch database, then reads the timings back from the call_events
history. Uses DATABASE_URL's server if set, else the embedded PostgreSQL.

    python bench/dispatch.py [--workers 1 2 4] [--calls 20000] [--chain 300] [--place-ms 0]

`--place-ms` gives the provider a request latency (a network API's), so that placements are
bound by the provider rather than by the CPU. Beside each rate it prints how many cores were
busy while calls were placed (the whole machine, and the workers alone): when one worker
already keeps nearly all of them busy, more workers on this machine cannot add much.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
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


def _start_workers(
    url: str, count: int, place_seconds: float = 0.0
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CAMPAIGN_SERVICE_PROVIDER": "instant",
        "CAMPAIGN_SERVICE_INSTANT_PLACE_SECONDS": str(place_seconds),
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


class CpuSampler:
    """Samples, every 50 ms in a thread, the CPU time the machine spent busy and the CPU time
    of some processes (from /proc), to tell how many cores were busy over a stretch of time."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, float, float]] = []  # (epoch, busy s, processes' s)
        self._stop = threading.Event()
        self._last: dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _busy(self) -> float:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle, iowait
        return (sum(fields[:8]) - idle) / self.TICK

    def _processes(self) -> float:
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    after_name = f.read().rsplit(")", 1)[1].split()
                self._last[pid] = (int(after_name[11]) + int(after_name[12])) / self.TICK
            except (OSError, IndexError):
                pass  # gone: its last reading stands
        return sum(self._last.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self._busy(), self._processes()))
            self._stop.wait(0.05)

    def cores(self, start: float, end: float) -> tuple[float, float]:
        """Busy cores (the machine, the processes) between two epoch times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan"), float("nan")
        (t0, busy0, own0), (t1, busy1, own1) = inside[0], inside[-1]
        return (busy1 - busy0) / (t1 - t0), (own1 - own0) / (t1 - t0)


@dataclass(frozen=True)
class Run:
    rate: float  # calls placed per second while a backlog existed
    busy_cores: float  # the whole machine's busy cores meanwhile (PostgreSQL included)
    worker_cores: float  # the worker processes' share of them


def measure(workers: int, calls: int, place_seconds: float = 0.0) -> Run:
    """Calls placed per second while a backlog exists (first to last placement), and the
    cores busy meanwhile."""
    per_campaign = calls // 8
    with scratch_database("cs_bench_dispatch") as url:
        asyncio.run(_seed(url, [(per_campaign, 500)] * 8, org_limit=4000))
        procs = _start_workers(url, workers, place_seconds)
        try:
            with CpuSampler([p.pid for p in procs]) as cpu:
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
    busy, own = cpu.cores(first.timestamp(), last.timestamp())  # type: ignore[attr-defined]
    return Run(int(placed) / seconds, busy, own)  # type: ignore[call-overload]


def throughput(workers: int, calls: int) -> float:
    return measure(workers, calls).rate


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
    parser.add_argument("--place-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(
        f"dispatch benchmark ({os.cpu_count()} cores), instant provider"
        f" taking {args.place_ms:g} ms per request"
    )
    for workers in args.workers:
        run = measure(workers, args.calls, args.place_ms / 1000)
        print(
            f"  throughput  workers={workers}  {args.calls} calls  {run.rate:8.0f} calls placed/s"
            f"  busy cores {run.busy_cores:.2f} (workers {run.worker_cores:.2f})"
        )
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
