"""Campaign endpoints. Thin: validate, call the service, render with the read model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ValidationError

from campaign_service.api.deps import (
    AppSettings,
    Credentials,
    CurrentOrg,
    Now,
    Session,
    key_hash,
    unauthorized,
)
from campaign_service.api.direct import direct_read
from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.examples import CREATE_EXAMPLES, UPDATE_EXAMPLES
from campaign_service.api.idempotency import IdempotentRoute, holds_idempotency_key
from campaign_service.audiences.dedupe import dedupe_campaign
from campaign_service.audiences.schemas import DedupeQuery
from campaign_service.calls.schemas import CallDetails, CallListQuery, CallPaginatedResponse
from campaign_service.campaigns import control, service
from campaign_service.campaigns.schemas import (
    Campaign,
    CampaignListQuery,
    CampaignPaginatedResponse,
    CreateCampaignDTO,
    UpdateCampaignDTO,
)
from campaign_service.campaigns.schemas_control import PauseRequest
from campaign_service.campaigns.schemas_events import DeliveryList, DeliveryQuery
from campaign_service.campaigns.schemas_progress import CampaignProgress
from campaign_service.campaigns.schemas_v2 import CampaignHistoryPaginatedResponse, HistoryQuery
from campaign_service.db.raw import read_connection
from campaign_service.errors import NotFound
from campaign_service.readmodel import calls as call_views
from campaign_service.readmodel import documents
from campaign_service.readmodel.campaigns import campaign_body
from campaign_service.readmodel.deliveries import deliveries
from campaign_service.readmodel.history import history_page
from campaign_service.readmodel.progress import progress
from campaign_service.schema_types import PaginationMeta

router = APIRouter(responses=ERROR_RESPONSES, route_class=IdempotentRoute)
# Paths beyond Vapi's API; served under /campaigns only, never at Vapi's /campaign paths.
extensions = APIRouter(responses=ERROR_RESPONSES, tags=["Extensions"], route_class=IdempotentRoute)

STREAM_ABOVE_BYTES = 1024 * 1024
"""Bodies larger than this are streamed in pieces instead of joined."""


def json_body(body: BaseModel | orjson.Fragment | bytes, status_code: int = 200) -> Response:
    """Send a body serialized once: a model (absent fields omitted, no second validation
    pass) or JSON the read model already assembled."""
    if isinstance(body, BaseModel):
        content = body.model_dump_json(exclude_none=True).encode()
    elif isinstance(body, orjson.Fragment):
        content = orjson.dumps(body)
    else:
        content = body
    return Response(content=content, status_code=status_code, media_type="application/json")


@router.post("", status_code=201, response_model=Campaign, summary="Create a campaign")
async def create_campaign(
    dto: Annotated[CreateCampaignDTO, Body(openapi_examples=CREATE_EXAMPLES)],
    options: Annotated[DedupeQuery, Query()],
    org: CurrentOrg,
    session: Session,
    now: Now,
    settings: AppSettings,
    request: Request,
) -> Any:
    """Create a campaign and one call record per customer. It starts at schedulePlan.earliestAt,
    or at once without a schedulePlan. Extension: `dedupe=true` keeps each number's first
    customer only. `duplicateFromCampaignId` copies one of your campaigns' configuration, and
    its audience when neither customers nor dialPlan is given; the body's fields apply on top."""
    if dto.duplicateFromCampaignId is not None:
        body = await service.duplicate_body(session, org_id=org.id, dto=dto, now=now)
        try:
            dto = CreateCampaignDTO.model_validate(body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None
    if options.dedupe:
        dto = dedupe_campaign(dto)
    created = await service.create_rendered_campaign(
        session,
        org=org,
        dto=dto,
        now=now,
        default_call_seconds=settings.typical_call_seconds,
    )
    # The body from the new row and the calls as rendered right after their insert.
    parts = documents.created_pieces(
        created.campaign, created.calls, blocked_reason=org.dispatch_blocked_reason
    )
    return created_body(request, parts)


SEND_CHUNK_BYTES = 256 * 1024
"""A large created body is sent in slices of this size (no copy of it is made to send)."""


def created_body(request: Request, parts: list[bytes]) -> Response:
    """The 201 of a create, from the pieces of its body: whole when small or when an
    Idempotency-Key stores it, else streamed slice by slice (never joined into one copy)."""
    size = sum(len(part) for part in parts)
    if size <= STREAM_ABOVE_BYTES or holds_idempotency_key(request):
        return json_body(b"".join(parts), 201)

    async def stream() -> AsyncIterator[memoryview]:
        while parts:
            view = memoryview(parts.pop(0))
            for start in range(0, len(view), SEND_CHUNK_BYTES):
                yield view[start : start + SEND_CHUNK_BYTES]
            del view

    return StreamingResponse(stream(), status_code=201, media_type="application/json")


def pieces_body(
    request: Request, parts: list[documents.Piece], more: AsyncIterator[bytes] | None = None
) -> Response:
    """A body assembled from pieces: joined when small, else streamed piece by piece so a
    large body is never copied once more in memory."""
    ready = [part for part in parts if isinstance(part, bytes)]
    whole = more is None and len(ready) == len(parts)
    if whole and sum(len(part) for part in ready) <= STREAM_ABOVE_BYTES:
        return json_body(b"".join(ready))

    async def stream() -> AsyncIterator[bytes]:
        async for part in documents.expand(request.app.state.engine, parts):
            yield part
        if more is not None:
            async for part in more:
                yield part

    return StreamingResponse(stream(), media_type="application/json")


@router.get("", response_model=CampaignPaginatedResponse, summary="List campaigns")
@direct_read
async def list_campaigns(
    query: Annotated[CampaignListQuery, Query()], credentials: Credentials, request: Request
) -> Any:
    """List your organization's campaigns, newest first unless sortOrder=ASC."""
    hashed = key_hash(credentials)
    engine = request.app.state.engine
    async with read_connection(engine) as conn:
        page = await documents.list_page(
            conn,
            key_hash=hashed,
            conditions=documents.list_conditions(query),
            offset=(query.page - 1) * query.limit,
            limit=query.limit,
            ascending=query.sortOrder == "ASC",
        )
        if page is None:
            raise unauthorized(request)
        metadata = PaginationMeta.for_page(
            total=page.total, page=query.page, limit=query.limit, sort_order=query.sortOrder
        )
        tail = b'],"metadata":' + orjson.dumps(metadata.model_dump()) + b"}"
        parts, more = await documents.list_body(
            engine, conn, page, b'{"results":[', tail, key_hash=hashed
        )
    return pieces_body(request, parts, more)


@router.get("/{id}", response_model=Campaign, summary="Get a campaign")
@direct_read
async def get_campaign(id: str, credentials: Credentials, request: Request) -> Any:
    """Get one campaign with its calls and live counters."""
    found = await documents.campaign_pieces(
        request.app.state.engine, key_hash=key_hash(credentials), campaign_id=service.parse_id(id)
    )
    if found is None:
        raise unauthorized(request)
    if found.body is None:
        raise NotFound(f"campaign {id} not found")
    return pieces_body(request, found.body)


@router.patch("/{id}", response_model=Campaign, summary="Update or end a campaign")
async def update_campaign(
    id: str,
    dto: Annotated[UpdateCampaignDTO, Body(openapi_examples=UPDATE_EXAMPLES)],
    org: CurrentOrg,
    session: Session,
    now: Now,
) -> Any:
    """Change a scheduled campaign's configuration, rename it, or end it with
    `{"status": "ended"}`: calls not yet placed are cancelled, calls in progress finish."""
    campaign = await service.update_campaign(session, org=org, campaign_id=id, dto=dto, now=now)
    return json_body(await campaign_body(session, campaign))


@router.delete("/{id}", response_model=Campaign, summary="Delete (archive) a campaign")
async def delete_campaign(id: str, org: CurrentOrg, session: Session, now: Now) -> Any:
    """End the campaign if it is running and archive it: it disappears from get and list,
    but its records are kept. Answers 200 with the campaign."""
    campaign = await service.archive_campaign(session, org_id=org.id, campaign_id=id, now=now)
    return json_body(await campaign_body(session, campaign))


@router.get("/{id}/calls", response_model=CallPaginatedResponse, summary="List a campaign's calls")
async def list_calls(
    id: str, query: Annotated[CallListQuery, Query()], org: CurrentOrg, session: Session
) -> Any:
    """The campaign's per-call records in dial order, optionally filtered by status."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    return json_body(await call_views.calls_page(session, campaign_id=campaign.id, query=query))


@router.get("/{id}/calls/{callId}", response_model=CallDetails, summary="Get one call")
async def get_call(id: str, callId: str, org: CurrentOrg, session: Session) -> Any:
    """One call record of the campaign."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    call_id = service.parse_id(callId, "call")
    details = await call_views.call(session, campaign_id=campaign.id, call_id=call_id)
    if details is None:
        raise NotFound(f"call {callId} not found")
    return json_body(details)


@extensions.get(
    "/{id}/events",
    response_model=CampaignHistoryPaginatedResponse,
    summary="A campaign's history (extension)",
)
async def list_history(
    id: str, query: Annotated[HistoryQuery, Query()], org: CurrentOrg, session: Session
) -> Any:
    """Extension (not part of Vapi's API): every move of the campaign through its lifecycle,
    oldest first, with who made it, why, and when: created, started, ended (by the user or
    because every call ended), archived."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    return json_body(await history_page(session, campaign_id=campaign.id, query=query))


@extensions.post(
    "/{id}/pause", response_model=Campaign, summary="Pause a running campaign (extension)"
)
async def pause_campaign(
    id: str,
    org: CurrentOrg,
    session: Session,
    now: Now,
    body: Annotated[PauseRequest | None, Body()] = None,
) -> Any:
    """Extension (not part of Vapi's API): stop placing new calls at once; calls in progress
    finish. The status stays in-progress; pausedAt, pausedBy and pauseReason show the pause.
    Pausing a campaign that is paused, scheduled or ended answers 400."""
    campaign = await control.pause_campaign(
        session,
        org_id=org.id,
        campaign_id=service.parse_id(id),
        reason=body.reason if body else None,
        now=now,
    )
    return json_body(await campaign_body(session, campaign))


@extensions.post(
    "/{id}/resume", response_model=Campaign, summary="Resume a paused campaign (extension)"
)
async def resume_campaign(id: str, org: CurrentOrg, session: Session, now: Now) -> Any:
    """Extension (not part of Vapi's API): go on dialing a paused campaign, whoever paused it
    (the user or the breaker); its waiting calls get a fresh capacity window. Resuming a
    campaign that is not paused answers 400."""
    campaign = await control.resume_campaign(
        session, org_id=org.id, campaign_id=service.parse_id(id), now=now
    )
    return json_body(await campaign_body(session, campaign))


@extensions.get(
    "/{id}/progress",
    response_model=CampaignProgress,
    summary="Where a campaign stands and why it waits (extension)",
)
async def get_progress(
    id: str, org: CurrentOrg, session: Session, now: Now, settings: AppSettings
) -> Any:
    """Extension (not part of Vapi's API): the campaign's calls by state, its recent pace, an
    ETA from observed call lengths, the concurrency in use and available, its calling hours
    by contact zone, and `blockedBy`: every reason no call is being placed right now."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    report = await progress(
        session, campaign, now=now, default_call_seconds=settings.typical_call_seconds
    )
    return json_body(report)


@extensions.get(
    "/{id}/deliveries",
    response_model=DeliveryList,
    summary="A campaign's recent events and their delivery (extension)",
)
async def get_deliveries(
    id: str, org: CurrentOrg, session: Session, query: Annotated[DeliveryQuery, Query()]
) -> Any:
    """Extension (not part of Vapi's API): the campaign's newest events (serverMessages),
    newest first, each with its stable id, how many POSTs were made, and whether it was
    delivered, is pending a retry, or is dead (retried until the retry time ran out), with the
    last error. `state=dead` lists the failures."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    return json_body(await deliveries(session, campaign, query))
