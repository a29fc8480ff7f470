"""Liveness and readiness probes (no authentication, no internals in the body)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from campaign_service.db.migrate import head_revision

router = APIRouter(tags=["Operations"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/ready", summary="Readiness", responses={503: {"description": "Not ready"}})
async def ready(request: Request) -> Any:
    """The database answers and its schema is at the newest migration."""
    try:
        async with request.app.state.engine.connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != head_revision():
        return JSONResponse({"status": "unavailable", "database": "migrations pending"},
                            status_code=503)
    return {"status": "ok", "database": "ok"}
