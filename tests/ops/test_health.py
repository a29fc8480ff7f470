"""Liveness and readiness: unauthenticated, honest about the database, and tight-lipped."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from campaign_service.api.app import create_app
from campaign_service.db.migrate import upgrade_to_head
from campaign_service.settings import Settings
from tests.ops.conftest import free_port


async def _get(app: FastAPI, path: str, **kwargs: object) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(path, **kwargs)  # type: ignore[arg-type]


async def test_health_answers_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_probes_ignore_a_bad_key(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Authorization": "Bearer not-a-key"})
    assert response.status_code == 200


async def test_ready_is_503_on_an_empty_database(empty_database: Callable[[], str]) -> None:
    app = create_app(Settings(), database_url=empty_database())
    response = await _get(app, "/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "migrations pending"}


async def test_ready_turns_ok_once_migrations_run(empty_database: Callable[[], str]) -> None:
    url = empty_database()
    app = create_app(Settings(), database_url=url)
    assert (await _get(app, "/ready")).status_code == 503
    upgrade_to_head(url)
    response = await _get(app, "/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_ready_is_503_without_internals_when_database_is_down() -> None:
    # Nothing listens on this port: the connection is refused at once.
    url = f"postgresql://secretuser:secretpw@127.0.0.1:{free_port()}/nowhere"
    app = create_app(Settings(), database_url=url)
    response = await _get(app, "/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    for leak in ("secret", "127.0.0.1", "nowhere", "asyncpg", "Traceback", "refused"):
        assert leak not in response.text


async def test_health_stays_ok_when_database_is_down() -> None:
    app = create_app(Settings(), database_url=f"postgresql://u@127.0.0.1:{free_port()}/x")
    response = await _get(app, "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_probes_are_documented_without_security(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/health", "/ready"):
        operation = paths[path]["get"]
        assert "security" not in operation
        assert operation["tags"] == ["Operations"]
    assert "503" in paths["/ready"]["get"]["responses"]
