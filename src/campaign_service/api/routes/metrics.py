"""Prometheus scrape endpoint. With CAMPAIGN_SERVICE_METRICS_TOKEN set it requires that
operator token (the totals span every organization, so an org's API key is not enough);
without it, expose it only where Prometheus can reach."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.errors import Unauthorized
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
        },
        401: {
            **ERROR_RESPONSES[401],
            "description": "An operator token is configured and this request does not carry it.",
        },
    },
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route, campaigns and calls by status, engine counters.
    When the operator configured CAMPAIGN_SERVICE_METRICS_TOKEN, send it as
    `Authorization: Bearer <token>`."""
    require_operator_token(request)
    snapshot = await database_snapshot(request.app.state.engine)
    body = b"".join(
        generate_latest(registry)
        for registry in (request.app.state.metrics_registry, snapshot, ENGINE_REGISTRY)
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def require_operator_token(request: Request) -> None:
    """Refuse the scrape unless it carries the configured operator token (if one is set)."""
    token = request.app.state.settings.metrics_token
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthorized(
            "/metrics requires the operator token: Authorization: Bearer <token> "
            "(the value of CAMPAIGN_SERVICE_METRICS_TOKEN)"
        )
