"""Liveness and readiness probes (no authentication, no internals in the body)."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.db.migrate import current_revision, head_revision

log = logging.getLogger(__name__)
router = APIRouter(route_class=StrictJsonRoute, tags=["Operations"])

# A probe must answer before the orchestrator's own timeout, even when the database hangs.
READY_TIMEOUT_SECONDS = 3.0

# The migration scripts ship with the code, so the head cannot change while the process runs.
_head_revision = functools.cache(head_revision)


class HealthBody(BaseModel):
    status: str = Field(description="`ok` while the process serves requests.", examples=["ok"])


class ReadyBody(BaseModel):
    status: str = Field(description="`ok` or `unavailable`.", examples=["ok"])
    database: str = Field(
        description="`ok`, `unreachable` or `migrations pending`.", examples=["ok"]
    )


_OK = b'{"status":"ok"}'


@router.get("/health", summary="Liveness", response_model=HealthBody)
async def health() -> Response:
    """The process is up and serving requests."""
    # A ready body: the probe is polled often, and validating a constant is wasted work.
    return Response(_OK, media_type="application/json")


async def _current_revision(request: Request) -> str | None:
    async with request.app.state.engine.connect() as conn:
        return await current_revision(conn)


@router.get(
    "/ready",
    summary="Readiness",
    response_model=ReadyBody,
    responses={
        503: {
            "model": ReadyBody,
            "description": "Not ready: the database is unreachable or migrations are pending.",
        }
    },
)
async def ready(request: Request) -> Any:
    """The database answers and its schema is at the newest migration."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            current = await _current_revision(request)
    except Exception:
        # Logged for the operator; the body names no host, driver or error text.
        log.warning("readiness: database unreachable", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != _head_revision():
        return JSONResponse(
            {"status": "unavailable", "database": "migrations pending"}, status_code=503
        )
    return {"status": "ok", "database": "ok"}
