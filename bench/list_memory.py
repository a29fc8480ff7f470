"""How much one read request grows the server's memory, whatever tenants stored.

Four campaigns of ~31 MB of JSON each (10,000 calls whose customers carry 1.5 kB names) in
one org; `GET /campaigns?limit=10` answers ~125 MB. The v1 and v2 lists and the v1 and v2
reads of one campaign are measured in turn. The server's resident memory is read
before the request and at its peak during it (VmHWM, reset first), with the body read
streaming on the client side. The bound is 50 MB of growth for any single request.

    python bench/list_memory.py [--campaigns 4] [--calls 10000] [--name-bytes 1500]
    python bench/list_memory.py --overrides-mb 31 --calls 10 --name-bytes 10
        (the 31 MB are in each campaign's assistantOverrides instead)

DATABASE_URL names the PostgreSQL server (else the embedded one).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
import httpx
from scratch import scratch_database
from speed import _keys, _rss_kb, server

from campaign_service.db.session import async_url

BOUND_MB = 50.0


async def _store(
    dsn: str, org_id: object, campaigns: int, calls: int, name_bytes: int, overrides_mb: int
) -> list[object]:
    connection = await asyncpg.connect(dsn)
    ids = []
    try:
        for i in range(campaigns):
            campaign = await connection.fetchval(
                "INSERT INTO campaigns (id, org_id, name, status, max_concurrency,"
                " phone_number_id, assistant_id, extra_config) VALUES (gen_random_uuid(), $1, $2,"
                " 'scheduled', 10, 'pn_memory', 'asst_memory', CASE WHEN $3 > 0 THEN"
                " jsonb_build_object('assistantOverrides', jsonb_build_object('firstMessage',"
                " repeat('y', $3 * 1024 * 1024))) ELSE '{}' END) RETURNING id",
                org_id,
                f"big {i}",
                overrides_mb,
            )
            ids.append(campaign)
            await connection.execute(
                "INSERT INTO calls (id, campaign_id, org_id, position, phone_number_id,"
                " customer, status, created_at, updated_at)"
                " SELECT gen_random_uuid(), $1, $2, n, 'pn_memory',"
                " jsonb_build_object('number', '+1415' || lpad(n::text, 7, '0'),"
                "                    'name', repeat('x', $3)), 'scheduled', now(), now()"
                " FROM generate_series(0, $4 - 1) n",
                campaign,
                org_id,
                name_bytes,
                calls,
            )
    finally:
        await connection.close()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--name-bytes", type=int, default=1500)
    parser.add_argument("--overrides-mb", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with scratch_database("cs_list_memory") as url:
        key, _, org_id = asyncio.run(_keys(url))
        dsn = async_url(url).set(drivername="postgresql").render_as_string(False)
        ids = asyncio.run(
            _store(dsn, org_id, args.campaigns, args.calls, args.name_bytes, args.overrides_mb)
        )
        requests = {
            "v1 list": "/campaigns?limit=10",
            "v2 list": "/v2/campaign?limit=10",
            "v1 get": f"/campaigns/{ids[0]}",
            "v2 get": f"/v2/campaign/{ids[0]}",
        }
        command = [sys.executable, "-m", "campaign_service.cli", "serve", "--no-dispatcher"]
        growths = []
        with server(command, url) as (base, pid):
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(args.rounds):
                for label, path in requests.items():
                    before = _rss_kb(pid, "VmRSS")
                    with open(f"/proc/{pid}/clear_refs", "w") as refs:
                        refs.write("5")  # reset the peak (VmHWM) to the current size
                    size = 0
                    with httpx.stream(
                        "GET", f"{base}{path}", headers=headers, timeout=300
                    ) as response:
                        assert response.status_code == 200, response.read()[:300]
                        for chunk in response.iter_bytes():
                            size += len(chunk)
                    growth = (_rss_kb(pid, "VmHWM") - before) / 1024
                    growths.append(growth)
                    print(
                        f"{label:8} {size / 1e6:6.1f} MB answered; server RSS "
                        f"{before / 1024:.0f} MB before, peak +{growth:.1f} MB"
                    )
    worst = max(growths)
    verdict = "within" if worst <= BOUND_MB else "OVER"
    print(f"worst growth {worst:.1f} MB: {verdict} the {BOUND_MB:.0f} MB bound")
    sys.exit(0 if worst <= BOUND_MB else 1)


if __name__ == "__main__":
    main()
