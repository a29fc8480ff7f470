"""The database unreachable or dropping connections: 503 with Retry-After in Vapi's shape
(never 500), and the pool never lends a connection an error left broken."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.api.app import create_app
from campaign_service.settings import Settings
from tests.api.helpers import assert_error, create
from tests.conftest import OrgKey, campaign_body

APP_CONNECTIONS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND application_name = 'campaign-service api'"
)
CSV = b"number\n+14155550100\n"


def data_requests(campaign_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", "/campaigns", {}),
        ("POST", "/campaigns", {"json": campaign_body(1)}),
        ("POST", "/campaign", {"json": campaign_body(1)}),
        ("GET", f"/campaigns/{campaign_id}", {}),
        ("PATCH", f"/campaigns/{campaign_id}", {"json": {"name": "x"}}),
        ("DELETE", f"/campaigns/{campaign_id}", {}),
        ("GET", f"/campaigns/{campaign_id}/calls", {}),
        ("GET", f"/campaigns/{campaign_id}/progress", {}),
        ("POST", f"/campaigns/{campaign_id}/pause", {}),
        ("GET", f"/campaigns/{campaign_id}/export", {}),
        ("GET", "/v2/campaign", {}),
        ("GET", f"/v2/campaign/{campaign_id}/contacts", {}),
        (
            "POST",
            "/campaigns/import",
            {"files": {"file": ("a.csv", CSV)}, "data": {"config": '{"name": "n"}'}},
        ),
        ("GET", "/dnc", {}),
        ("POST", "/dnc", {"json": {"number": "+14155550100"}}),
    ]


@pytest.fixture
async def unreachable_client() -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database URL names a port where nothing listens (bound, never listening,
    so no other process can take it during the test)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        app = create_app(
            Settings(db_connect_timeout=2),
            database_url=f"postgresql://postgres@127.0.0.1:{port}/nothing",
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


async def test_every_data_request_answers_503_with_retry_after(unreachable_client):
    headers = {"Authorization": "Bearer csk_whatever", "Idempotency-Key": "k"}
    for method, path, kwargs in data_requests("6f1c9a52-5d8e-4a59-9d43-2f1fbb1f4b11"):
        response = await unreachable_client.request(method, path, headers=headers, **kwargs)
        assert_error(response, 503, "The database is unavailable")
        assert response.headers["Retry-After"] == "5", path
    assert (await unreachable_client.get("/health")).status_code == 200
    assert (await unreachable_client.get("/ready")).status_code == 503


async def _terminate(engine: AsyncEngine, condition: str = "") -> int:
    async with engine.connect() as conn:
        pids = (await conn.execute(text(APP_CONNECTIONS + condition))).scalars().all()
        for pid in pids:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    return len(pids)


async def _wait_for_a_blocked_request(engine: AsyncEngine) -> None:
    async with asyncio.timeout(30):
        while True:
            async with engine.connect() as conn:
                blocked = (
                    await conn.execute(text(APP_CONNECTIONS + " AND wait_event_type = 'Lock'"))
                ).first()
            if blocked:
                return
            await asyncio.sleep(0.02)


async def test_a_connection_terminated_mid_request_is_a_503_then_service_resumes(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
):
    await create(client, org)
    async with engine.connect() as locker:
        await locker.execute(text("LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE"))
        pending = asyncio.create_task(client.get("/campaigns", headers=org.headers))
        await _wait_for_a_blocked_request(engine)
        assert await _terminate(engine, " AND wait_event_type = 'Lock'") == 1
        await locker.rollback()
    assert_error(await pending, 503, "The database is unavailable")
    assert (await pending).headers["Retry-After"] == "5"
    for _ in range(20):
        assert (await client.get("/campaigns", headers=org.headers)).status_code == 200


async def test_pooled_connections_terminated_by_the_server_are_replaced(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
):
    # Fill the pool with several connections, then have the server end all of them.
    await asyncio.gather(*(create(client, org) for _ in range(8)))
    terminated = await _terminate(engine)
    assert terminated >= 1
    # No ping on checkout (a round trip per request): a request that meets a terminated
    # connection answers 503 with Retry-After (nothing was done; never a 500), and the pool
    # is rebuilt at once, so every later request is served.
    first = await asyncio.gather(
        *(client.get("/campaigns", headers=org.headers) for _ in range(20))
    )
    refused = [r for r in first if r.status_code != 200]
    assert len(refused) <= terminated, [r.status_code for r in first]
    for response in refused:
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.json()["statusCode"] == 503
    statuses = await asyncio.gather(
        *(client.get("/campaigns", headers=org.headers) for _ in range(20))
    )
    assert [r.status_code for r in statuses] == [200] * 20


async def test_a_cancelled_query_leaves_no_broken_connection_behind(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
):
    """/ready gives up on a database that does not answer in time (its query is cancelled
    mid-flight); the connection it used must not be lent to the next request."""
    await create(client, org)
    for _ in range(3):
        async with engine.connect() as locker:
            await locker.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            ready = await client.get("/ready")
            await locker.rollback()
        assert ready.status_code == 503
        statuses = await asyncio.gather(
            *(client.get("/campaigns", headers=org.headers) for _ in range(12))
        )
        assert [r.status_code for r in statuses] == [200] * 12, [r.text for r in statuses]


async def test_a_write_cut_off_after_taking_its_key_leaves_no_key_behind(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
):
    """The key's row and the write commit together: a connection lost between them (the
    server ends it while the write waits) leaves neither, and the retry with the same key runs."""
    headers = {**org.headers, "Idempotency-Key": "cut-off"}
    async with engine.connect() as locker:
        await locker.execute(text("LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE"))
        pending = asyncio.create_task(
            client.post("/campaigns", json=campaign_body(2), headers=headers)
        )
        await _wait_for_a_blocked_request(engine)
        assert await _terminate(engine, " AND wait_event_type = 'Lock'") == 1
        await locker.rollback()
    assert_error(await pending, 503, "The database is unavailable")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar() == 0

    retried = await client.post("/campaigns", json=campaign_body(2), headers=headers)
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    again = await client.post("/campaigns", json=campaign_body(2), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM campaigns"))).scalar() == 1
