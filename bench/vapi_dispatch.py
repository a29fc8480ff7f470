"""Placements per second through Vapi (the fake), beside the `instant` provider, same run.

Two `campaign-service worker` processes place the calls of 8 campaigns (one org) against a
scratch database; in the `vapi` runs the org is set to the `vapi` provider and every call is a
real `POST /call` over loopback HTTP to the fake Vapi (in this process), in the `instant` runs
the org keeps the default provider (calls are answered and end at once). Runs alternate, so
both see the same machine load; the figure is calls placed per second, from the campaigns'
release to the last placement recorded. Uses DATABASE_URL's server if set, else the embedded
PostgreSQL.

    python bench/vapi_dispatch.py [--calls 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter

from cryptography.fernet import Fernet
from dispatch import _query, _release, _seed, _stop, _wait_all_ended
from pydantic import SecretStr
from scratch import scratch_database

from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.fakevapi import FakeOrg, FakeVapiConfig, Timings, run_fake_vapi
from campaign_service.orgs.secrets import KeyRing
from campaign_service.orgs.service import update_provider_settings

WORKERS = 2
MASTER_KEY = Fernet.generate_key().decode()
VAPI_KEY = "bench-vapi-key"
LIMIT = 4000
QUICK = Timings(queued_seconds=0.0, ring_seconds=(0.0, 0.01), talk_seconds=(0.0, 0.01))


async def _set_vapi(url: str, base_url: str) -> None:
    ((org_id,),) = await _query(url, "SELECT id FROM orgs")
    engine = create_engine(url, pool_size=1)
    async with unit_of_work(session_factory(engine)) as session:
        await update_provider_settings(
            session,
            org_id=uuid.UUID(str(org_id)),
            default_base_url=base_url,
            provider="vapi",
            vapi_api_key=VAPI_KEY,
            vapi_base_url=base_url,
            keys=lambda: KeyRing.from_setting(SecretStr(MASTER_KEY)),
        )
    await engine.dispose()


def _workers(url: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CAMPAIGN_SERVICE_PROVIDER": "instant",
        "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING",
        "CAMPAIGN_SERVICE_DB_POOL_SIZE": "10",
        "CAMPAIGN_SERVICE_SECRET_KEYS": MASTER_KEY,
        # Pacing is Vapi's concern in production; here the bench measures the engine.
        "CAMPAIGN_SERVICE_VAPI_REQUESTS_PER_SECOND": "100000",
        "CAMPAIGN_SERVICE_VAPI_REQUEST_BURST": "10000",
        # No webhooks here: the reconciler ends the calls, after the placements (a quiet
        # time shorter than the placing would have its polls compete with the dials).
        "CAMPAIGN_SERVICE_VAPI_POLL_QUIET_SECONDS": "3",
        "CAMPAIGN_SERVICE_VAPI_POLL_INTERVAL": "0.5",
        "CAMPAIGN_SERVICE_VAPI_POLL_BATCH": "500",
    }
    return [
        subprocess.Popen([sys.executable, "-m", "campaign_service.cli", "worker"], env=env)
        for _ in range(WORKERS)
    ]


def placements_per_second(provider: str, calls: int) -> tuple[float, int]:
    """(calls placed per second, most dials of one call at the fake, 0 for instant)."""
    per_campaign = calls // 8
    config = FakeVapiConfig(orgs=(FakeOrg(VAPI_KEY, concurrency_limit=LIMIT),), timings=QUICK)
    with scratch_database("cs_bench_vapi") as url, run_fake_vapi(config) as fake:
        asyncio.run(_seed(url, [(per_campaign, 500)] * 8, org_limit=LIMIT))
        if provider == "vapi":
            asyncio.run(_set_vapi(url, fake.url))
        procs = _workers(url)
        try:
            time.sleep(2.0)  # workers up and listening
            ((released,),) = asyncio.run(_query(url, "SELECT clock_timestamp()"))
            asyncio.run(_release(url))
            _wait_all_ended(url, timeout=900)
        finally:
            _stop(procs)
        ((last, placed),) = asyncio.run(
            _query(
                url,
                "SELECT max(created_at), count(*) FROM call_events "
                "WHERE from_status = 'scheduled' AND source <> 'engine'",
            )
        )
        # Each campaign calls the same numbers: a double dial is one call record dialed twice.
        dials = Counter(c["callId"] for c in fake.fake.record().calls if not c["blocked"])
    seconds = (last - released).total_seconds()  # type: ignore[operator]
    return int(placed) / seconds, max(dials.values(), default=0)  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"vapi dispatch benchmark ({os.cpu_count()} cores), {WORKERS} workers")
    rates: dict[str, list[float]] = {"instant": [], "vapi": []}
    for round_ in range(args.rounds):
        order = ["instant", "vapi"] if round_ % 2 == 0 else ["vapi", "instant"]
        for provider in order:
            rate, most = placements_per_second(provider, args.calls)
            rates[provider].append(rate)
            extra = f"  most dials of one call {most}" if provider == "vapi" else ""
            print(f"  round {round_ + 1}  {provider:8s} {rate:8.0f} placements/s{extra}")
    instant, vapi = statistics.median(rates["instant"]), statistics.median(rates["vapi"])
    ratio = vapi / instant
    print(f"  median  instant {instant:.0f}/s  vapi {vapi:.0f}/s  ratio vapi/instant {ratio:.2f}")


if __name__ == "__main__":
    main()
