"""The concurrency limits hold with 1, 2 and 4 dispatchers running at once on one database.

Each dispatcher has its own engine (its own connections), so the claims race for real in
PostgreSQL. The provider is shared, as a phone network would be, and counts how many calls it
carries at once per campaign and per org; a provider call only exists between a claim and the
recorded end, so its peak can never be below the engine's true peak.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.db.session import async_url, session_factory
from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.telephony.instant import InstantProvider
from campaign_service.timeutil import utcnow
from tests.conftest import campaign_body
from tests.dispatcher.conftest import engine_settings, scalar


@pytest.mark.parametrize("dispatchers", [1, 2, 4])
async def test_limits_hold_with_several_dispatchers(
    client, make_org, database_url, sessions, dispatchers
):
    org = await make_org(concurrency_limit=5)
    ids = []
    for name, limit in (("a", 3), ("b", 4)):
        body = campaign_body(n=25, name=name, maxConcurrency=limit)
        response = await client.post("/campaigns", json=body, headers=org.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])

    provider = InstantProvider(hold_seconds=0.03)
    engines = [
        create_async_engine(async_url(database_url), pool_size=3) for _ in range(dispatchers)
    ]
    settings = engine_settings(dispatcher_poll_interval=0.05)
    workers = [
        Dispatcher(sessions=session_factory(e), provider=provider, settings=settings, clock=utcnow)
        for e in engines
    ]
    tasks = [asyncio.create_task(w.run(engine=e)) for w, e in zip(workers, engines, strict=True)]
    try:
        for _ in range(600):
            if await scalar(sessions, "SELECT count(*) FROM campaigns WHERE status = 'ended'") == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
        for e in engines:
            await e.dispose()

    assert await scalar(sessions, "SELECT count(*) FROM calls WHERE status = 'ended'") == 50
    assert provider.dials == 50  # every call dialed exactly once
    by_campaign = {str(k): v for k, v in provider.max_by_campaign.items()}
    assert by_campaign[ids[0]] <= 3
    assert by_campaign[ids[1]] <= 4
    assert max(provider.max_by_org.values()) <= 5
    # The limit was actually reached, so the assertions above had something to hold back.
    assert max(provider.max_by_org.values()) == 5
