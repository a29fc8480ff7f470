"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

import campaign_service
from campaign_service.api.audience_errors import install_audience_errors
from campaign_service.api.auth_throttle import FailedAuthThrottle
from campaign_service.api.body_limit import BodyLimitMiddleware
from campaign_service.api.docs import install_docs
from campaign_service.api.errors import install_error_handlers
from campaign_service.api.header_limit import HeaderLimitMiddleware
from campaign_service.api.idempotency import install_idempotency
from campaign_service.api.openapi import install_openapi
from campaign_service.api.routes import (
    audiences,
    campaigns,
    campaigns_v2,
    dnc,
    health,
    metrics,
    webhooks,
)
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.api.trailing_slash import TrailingSlashMiddleware
from campaign_service.console.routes import install_console
from campaign_service.db.session import create_engine, session_factory
from campaign_service.observability.http import HttpMetrics, RequestObservabilityMiddleware
from campaign_service.settings import Settings
from campaign_service.timeutil import Clock, utcnow

DESCRIPTION = """
Outbound voice campaigns on your own infrastructure, compatible with Vapi's Campaign API.

A campaign calls a list of customers from one phone number (or a dial plan of several), starting
at `schedulePlan.earliestAt` (or at once), never more than `maxConcurrency` calls at a time.
Every customer has a call record; the `callsCounter*` fields are counted live from them.

Authenticate with `Authorization: Bearer <apiKey>`; create a key with
`campaign-service org create --name NAME`. Errors use Vapi's shape:
`{"message": ..., "error": "Bad Request", "statusCode": 400}`.

The same operations are served at `/campaigns` and at Vapi's own `/campaign` paths, so Vapi's SDKs
work when pointed at this service. A trailing slash names the same resource.

Extension: every write takes an optional `Idempotency-Key` header; a retry with the same key
and request gets the first answer again (`Idempotent-Replayed: true`) instead of running twice.

Extension: a web console at [/console](/console) shows campaigns live and creates them; it uses
this API with the key you sign in with.
"""

TAGS = [
    {"name": "Campaigns", "description": "Create, read, list, update, end and archive campaigns."},
    {"name": "Calls", "description": "The per-call records of a campaign."},
    {
        "name": "Vapi-compatible paths",
        "description": "The same operations at Vapi's singular `/campaign` paths "
        "(for Vapi's SDKs).",
    },
    {
        "name": "Vapi v2 paths",
        "description": "Vapi's current API at `/v2/campaign`: summaries with contact counters, "
        "and the contacts of a campaign with their outcomes.",
    },
    {
        "name": "Extensions",
        "description": "Beyond Vapi's API (new paths and optional fields only; Vapi's SDKs "
        "never see them): a campaign's history, pause and resume, and its progress report "
        "(why it waits). The optional fields callingWindow, retryPlan, timeZone and the "
        "pause and feasibility fields say `Extension:` in their descriptions.",
    },
    {
        "name": audiences.TAG,
        "description": "Extension (not in Vapi's API): create a campaign from a CSV file with "
        "per-row errors and a dry run; export a campaign's contacts and outcomes as CSV or NDJSON.",
    },
    {
        "name": dnc.TAG,
        "description": "Extension (not in Vapi's API): numbers the organization must never call, "
        "checked when each call is about to be dialed.",
    },
    {
        "name": webhooks.TAG,
        "description": "Extension (not in Vapi's API): where Vapi sends its server messages "
        "(status updates and end-of-call reports) for the calls this service places.",
    },
    {"name": "Operations", "description": "Health and readiness probes, Prometheus metrics."},
]


def _vapi_operation_id(route: APIRoute) -> str:
    return f"vapi_{route.name}"


BackgroundWork = Callable[[AsyncEngine], AbstractAsyncContextManager[object]]
"""Work that runs beside the API for the app's lifetime on its database engine (`serve` puts
a dispatcher there); the API itself knows nothing of it."""


def create_app(
    settings: Settings,
    *,
    database_url: str,
    clock: Clock = utcnow,
    background: BackgroundWork | None = None,
) -> FastAPI:
    """Build the app; the lifespan owns the database engine and any background work."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            database_url,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout,
            application_name="campaign-service api",
        )
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        try:
            async with background(engine) if background else nullcontext():
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="campaign-service",
        version=campaign_service.__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        # Served by install_docs from local files instead of FastAPI's CDN-based pages.
        docs_url=None,
        redoc_url=None,
    )
    # Routes added on the app itself (the docs pages) read JSON bodies strictly too.
    app.router.route_class = StrictJsonRoute
    app.state.settings = settings
    app.state.clock = clock
    app.state.auth_throttle = FailedAuthThrottle(
        limit=settings.auth_failure_limit, window=settings.auth_failure_window_seconds
    )
    # One registry per app: tests build many apps in one process without duplicate series.
    app.state.metrics_registry = CollectorRegistry()
    install_error_handlers(app)
    install_audience_errors(app)
    install_idempotency(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        HeaderLimitMiddleware,
        max_bytes=settings.max_header_bytes,
        max_count=settings.max_header_count,
    )
    # Added last, so outermost: 413s from the body limit are logged and counted too.
    app.add_middleware(
        RequestObservabilityMiddleware, metrics=HttpMetrics.create(app.state.metrics_registry)
    )
    # Outermost: every layer below sees `/campaigns/` as `/campaigns`.
    app.add_middleware(TrailingSlashMiddleware)
    # Routes are matched in order: the probes, polled the most and cheapest to answer, first.
    app.include_router(health.router)
    app.include_router(campaigns.router, prefix="/campaigns", tags=["Campaigns"])
    app.include_router(campaigns.extensions, prefix="/campaigns")
    app.include_router(
        campaigns.router,
        prefix="/campaign",
        tags=["Vapi-compatible paths"],
        generate_unique_id_function=_vapi_operation_id,
    )
    app.include_router(campaigns_v2.router)
    app.include_router(audiences.router)
    app.include_router(dnc.router)
    app.include_router(webhooks.router)
    app.include_router(metrics.router)
    install_docs(app)
    install_console(app)
    install_openapi(app)
    return app
