"""Vapi client benchmark against the fake Vapi on loopback: call creations per second, the time
find_call takes to page through many calls, and the request rate the per-org pacing holds.

    python bench/vapi_client.py [--calls 2000] [--concurrency 50] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from campaign_service.fakevapi import FakeOrg, FakeVapiConfig, Timings, run_fake_vapi
from campaign_service.telephony.base import PlaceCallRequest
from campaign_service.telephony.vapi_body import build_call_body
from campaign_service.telephony.vapi_client import Created, Found, VapiClient
from campaign_service.timeutil import utcnow

KEY = "bench-key"
# Calls that never end during the run, and an org limit that never blocks them.
CONFIG = FakeVapiConfig(
    orgs=(FakeOrg(KEY, concurrency_limit=1_000_000),),
    timings=Timings(queued_seconds=3600, ring_seconds=(1, 1), talk_seconds=(1, 1)),
    seed=1,
)


def request(i: int) -> PlaceCallRequest:
    return PlaceCallRequest(
        idempotency_key=str(i),
        call_id=uuid.uuid4(),
        campaign_id=uuid.UUID(int=1),
        org_id=uuid.UUID(int=2),
        phone_number_id="pn_bench",
        customer={"number": f"+1415{i:07d}"},
        assistant_id="asst_bench",
    )


async def create_many(url: str, calls: int, concurrency: int) -> tuple[float, list[str]]:
    gate = asyncio.Semaphore(concurrency)
    tags: list[str] = []

    async def one(i: int) -> None:
        placed = request(i)
        async with gate:
            result = await client.create_call(KEY, build_call_body(placed))
        assert isinstance(result, Created), result
        tags.append(str(placed.call_id))

    async with VapiClient(base_url=url, requests_per_second=1e9, burst=10**9) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        return time.perf_counter() - started, tags


async def find_oldest(url: str, tag: str, since: object) -> float:
    async with VapiClient(base_url=url, requests_per_second=1e9, burst=10**9) as client:
        started = time.perf_counter()
        found = await client.find_call(
            KEY,
            phone_number_id="pn_bench",
            customer_number=None,
            created_after=since,  # type: ignore[arg-type]
            call_id_tag=tag,
        )
        assert isinstance(found, Found), found
        return time.perf_counter() - started


async def paced_rate(url: str, rate: float, requests: int) -> float:
    async with VapiClient(base_url=url, requests_per_second=rate, burst=1) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.get_call(KEY, "none") for _ in range(requests)))
        return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    print(f"vapi client benchmark ({os.cpu_count()} cores), fake Vapi on loopback")
    with run_fake_vapi(CONFIG) as vapi:
        since = utcnow()
        seconds, tags = asyncio.run(create_many(vapi.url, args.calls, args.concurrency))
        print(
            f"  create_call  {args.calls} calls, {args.concurrency} at once  "
            f"{args.calls / seconds:7.0f} calls/s"
        )
        ordered = [c["callId"] for c in vapi.fake.record().calls]
        assert sorted(ordered) == sorted(tags)
        found = asyncio.run(find_oldest(vapi.url, ordered[0], since))
        print(
            f"  find_call    oldest of {args.calls} calls (pages of 1000)  {found * 1000:7.1f} ms"
        )
        achieved = asyncio.run(paced_rate(vapi.url, args.rate, int(args.rate * 3)))
        print(f"  pacing       limit {args.rate:g}/s, burst 1  achieved {achieved:6.1f} requests/s")


if __name__ == "__main__":
    main()
