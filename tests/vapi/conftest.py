"""Real calls through the fake Vapi: the service app on a real port (Vapi's webhooks reach
it), worker processes, and an org set to the `vapi` provider."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.api.app import create_app
from campaign_service.db.session import unit_of_work
from campaign_service.fakevapi import FakeOrg, FakeVapiConfig, ServerThread, Timings
from campaign_service.orgs import service as org_service
from campaign_service.orgs.secrets import KeyRing
from campaign_service.settings import Settings

MASTER_KEY = Fernet.generate_key().decode()
VAPI_KEY = "vapi-private-key-7f3a9c2e51"
FAST = Timings(queued_seconds=0.02, ring_seconds=(0.02, 0.05), talk_seconds=(0.05, 0.2))


def keys() -> KeyRing:
    return KeyRing.from_setting(SecretStr(MASTER_KEY))


def fake_config(concurrency_limit: int, **overrides: Any) -> FakeVapiConfig:
    values: dict[str, Any] = {
        "orgs": (FakeOrg(VAPI_KEY, concurrency_limit=concurrency_limit),),
        "timings": FAST,
        "seed": 11,
    }
    values.update(overrides)
    return FakeVapiConfig(**values)


@pytest.fixture
def service(database_url: str) -> Iterator[str]:
    """The service app serving on a free loopback port (real clock); its URL."""
    app = create_app(Settings(max_body_bytes=1024 * 1024), database_url=database_url)
    server = ServerThread(app).start()
    try:
        yield server.url
    finally:
        server.stop()


async def set_vapi(
    sessions: async_sessionmaker[AsyncSession], org_id: str, base_url: str, key: str = VAPI_KEY
) -> None:
    async with unit_of_work(sessions) as session:
        await org_service.update_provider_settings(
            session,
            org_id=uuid.UUID(org_id),
            default_base_url=base_url,
            provider="vapi",
            vapi_api_key=key,
            vapi_base_url=base_url,
            keys=keys,
        )


@dataclass
class Workers:
    database_url: str
    home: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]

    def start(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CAMPAIGN_SERVICE_HOME": str(self.home),
            "CAMPAIGN_SERVICE_SECRET_KEYS": MASTER_KEY,
            "CAMPAIGN_SERVICE_DISPATCHER_LEASE_SECONDS": "2",
            "CAMPAIGN_SERVICE_DISPATCHER_POLL_INTERVAL": "0.2",
            "CAMPAIGN_SERVICE_CAPACITY_RETRY_SECONDS": "0.3",
            "CAMPAIGN_SERVICE_VAPI_READ_TIMEOUT": "1",
            "CAMPAIGN_SERVICE_VAPI_REQUESTS_PER_SECOND": "500",
            "CAMPAIGN_SERVICE_VAPI_REQUEST_BURST": "100",
            "CAMPAIGN_SERVICE_VAPI_POLL_INTERVAL": "0.2",
            "CAMPAIGN_SERVICE_VAPI_POLL_QUIET_SECONDS": "1",
            "CAMPAIGN_SERVICE_LOG_LEVEL": "DEBUG",
            **self.env,
        }
        log = open(self.home / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "campaign_service.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.home.glob("worker-*")))


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    made: list[Workers] = []

    def factory(**env: str) -> Workers:
        group = Workers(database_url, tmp_path, env, [])
        made.append(group)
        return group

    yield factory
    for group in made:
        for proc in group.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in group.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_for(condition: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def customers(n: int) -> list[dict[str, str]]:
    return [{"number": f"+1415556{i:04d}", "name": f"Customer {i}"} for i in range(n)]


async def create_campaign(
    http: httpx.AsyncClient, headers: dict[str, str], n: int, max_concurrency: int
) -> str:
    body = {
        "name": "Vapi outreach",
        "assistantId": "asst_1",
        "phoneNumberId": "pn_1",
        "customers": customers(n),
        "maxConcurrency": max_concurrency,
    }
    response = await http.post("/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
