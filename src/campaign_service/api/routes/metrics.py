"""Prometheus scrape endpoint (no authentication: expose it only where Prometheus can reach)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.observability.db_metrics import database_snapshot
from campaign_service.observability.metrics import ENGINE_REGISTRY

router = APIRouter(route_class=StrictJsonRoute, tags=["Operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route, campaigns and calls by status, engine counters."""
    snapshot = await database_snapshot(request.app.state.engine)
    body = b"".join(
        generate_latest(registry)
        for registry in (request.app.state.metrics_registry, snapshot, ENGINE_REGISTRY)
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
