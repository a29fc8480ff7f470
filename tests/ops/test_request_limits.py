"""Abuse limits over real HTTP: invalid API keys are throttled per client address (429 with
Retry-After, valid keys never refused), and oversized or countless headers get 431."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from campaign_service.api.app import create_app
from campaign_service.api.auth_throttle import FailedAuthThrottle
from campaign_service.settings import Settings
from tests.api.helpers import assert_error
from tests.conftest import OrgKey
from tests.ops.conftest import LiveServer

LIMIT = Settings().auth_failure_limit


async def test_invalid_keys_are_throttled_per_address_and_valid_keys_never_are(
    live_server: LiveServer, org: OrgKey
) -> None:
    bad = {"Authorization": "Bearer csk_guess"}
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        for _ in range(LIMIT):
            assert_error(await client.get("/campaigns", headers=bad), 401, "Invalid Key")
        refused = await client.get("/campaigns", headers=bad)
        assert_error(refused, 429, "Too many invalid API keys")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Every guess stays refused; a valid key from the same address is served at once.
        for _ in range(50):
            assert (await client.get("/campaigns", headers=bad)).status_code == 429
            assert (await client.get("/campaigns", headers=org.headers)).status_code == 200
        # No key at all is not a guess: it is told how to authenticate.
        assert_error(await client.get("/campaigns"), 401, "Missing API key")


async def test_other_addresses_are_not_throttled(database_url: str, org: OrgKey) -> None:
    app = create_app(Settings(auth_failure_limit=3), database_url=database_url)
    bad = {"Authorization": "Bearer csk_guess"}
    async with app.router.lifespan_context(app):
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(address, 1234)),
                base_url="http://t",
            )
            for address in ("192.0.2.1", "192.0.2.2")
        ]
        first, second = clients
        for _ in range(3):
            assert (await first.get("/campaigns", headers=bad)).status_code == 401
        assert (await first.get("/campaigns", headers=bad)).status_code == 429
        assert (await second.get("/campaigns", headers=bad)).status_code == 401
        await asyncio.gather(*(c.aclose() for c in clients))


def test_the_throttle_forgets_failures_after_its_window() -> None:
    now = [1000.0]
    throttle = FailedAuthThrottle(limit=2, window=60, clock=lambda: now[0])
    throttle.record_failure("a")
    now[0] += 30
    throttle.record_failure("a")
    assert throttle.retry_after("a") == 30
    now[0] += 30.5  # the first failure left the window
    assert throttle.retry_after("a") is None
    now[0] += 60
    assert throttle.retry_after("a") is None
    assert throttle._failures == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "a" * 1024 * 1024},
        {f"X-Header-{i}": "v" for i in range(10_000)},
    ],
    ids=["one-1MB-header", "10000-headers"],
)
async def test_oversized_or_countless_headers_get_431(
    live_server: LiveServer, org: OrgKey, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.get("/campaigns", headers={**org.headers, **headers})
        assert_error(response, 431)
        assert (await client.get("/campaigns", headers=org.headers)).status_code == 200
