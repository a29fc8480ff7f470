"""Vapi's v2 campaign paths (`/v2/campaign`), for clients of Vapi's current API.

Create, update and delete behave exactly as on `/campaigns` and answer the full Campaign;
get and list answer CampaignSummary (no audience, no call map) with optional counters, and
`/contacts` lists the audience with each contact's outcome.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request

from campaign_service.api.deps import (
    Credentials,
    CurrentOrg,
    Now,
    Session,
    key_hash,
    unauthorized,
)
from campaign_service.api.direct import direct_read
from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.idempotency import IdempotentRoute
from campaign_service.api.routes import campaigns
from campaign_service.api.routes.campaigns import json_body, pieces_body
from campaign_service.campaigns import schemas_v2 as v2
from campaign_service.campaigns import service
from campaign_service.campaigns.schemas import Campaign, UpdateCampaignDTO
from campaign_service.db.raw import read_connection
from campaign_service.errors import BadRequest, NotFound
from campaign_service.readmodel import documents
from campaign_service.readmodel.contacts import contacts_page
from campaign_service.schema_types import PaginationMeta

router = APIRouter(
    prefix="/v2/campaign",
    tags=["Vapi v2 paths"],
    responses=ERROR_RESPONSES,
    route_class=IdempotentRoute,
)

# The writes are the v1 handlers themselves, under v2 names.
router.add_api_route(
    "",
    campaigns.create_campaign,
    methods=["POST"],
    status_code=201,
    response_model=Campaign,
    summary="Create a campaign (v2)",
    name="create_campaign_v2",
)
# What v2 PATCH may change: campaigns are immutable there, as on Vapi's v2.
V2_MUTABLE = frozenset({"status", "name"})
IMMUTABLE = (
    "campaigns are immutable on /v2/campaign: only status (to cancel) and name can be "
    "changed; to change {fields}, cancel this campaign and create a new one with "
    "duplicateFromCampaignId set to its id (and the changed fields)"
)


@router.patch("/{id}", response_model=Campaign, summary="Cancel or rename a campaign (v2)")
async def update_campaign_v2(
    id: str,
    dto: Annotated[UpdateCampaignDTO, Body()],
    org: CurrentOrg,
    session: Session,
    now: Now,
) -> Any:
    """Cancel a campaign with `{"status": "cancelled"}` (calls not yet placed are cancelled,
    calls in progress finish) or rename it. Any other field answers 400: v2 campaigns are
    immutable; duplicate the campaign (`duplicateFromCampaignId`) with the change instead."""
    changed = sorted(dto.model_fields_set - V2_MUTABLE)
    if changed:
        raise BadRequest(IMMUTABLE.format(fields=", ".join(changed)))
    return await campaigns.update_campaign(id, dto, org, session, now)


router.add_api_route(
    "/{id}",
    campaigns.delete_campaign,
    methods=["DELETE"],
    response_model=Campaign,
    summary="Archive a campaign (v2)",
    name="delete_campaign_v2",
)


@router.get("", response_model=v2.CampaignSummaryPaginatedResponse, summary="List campaigns (v2)")
@direct_read
async def list_campaigns_v2(
    query: Annotated[v2.CampaignListQueryV2, Query()], credentials: Credentials, request: Request
) -> Any:
    """Campaign summaries; `includeCounters=true` adds contactCounters and callMetrics."""
    hashed = key_hash(credentials)
    async with read_connection(request.app.state.engine) as conn:
        page = await documents.summary_page(
            conn,
            key_hash=hashed,
            conditions=documents.list_conditions(query),
            offset=(query.page - 1) * query.limit,
            limit=query.limit,
            ascending=query.sortOrder == "ASC",
            counters=query.includeCounters,
        )
    if page is None:
        raise unauthorized(request)
    metadata = PaginationMeta.for_page(
        total=page.total, page=query.page, limit=query.limit, sort_order=query.sortOrder
    )
    tail = b'],"metadata":' + orjson.dumps(metadata.model_dump()) + b"}"
    return pieces_body(request, [b'{"results":[', *page.parts, tail])


@router.get("/{id}", response_model=v2.CampaignSummary, summary="Get a campaign (v2)")
@direct_read
async def get_campaign_v2(
    id: str, query: Annotated[v2.SummaryQuery, Query()], credentials: Credentials, request: Request
) -> Any:
    """One campaign summary; `includeCounters=true` adds contactCounters and callMetrics."""
    hashed, campaign_id = key_hash(credentials), service.parse_id(id)
    async with read_connection(request.app.state.engine) as conn:
        # The list's statement narrowed to one campaign: its summary rendered by PostgreSQL,
        # and opaque objects too large to hold whole sent in chunks (bounded memory).
        page = await documents.summary_page(
            conn,
            key_hash=hashed,
            conditions=[("campaigns.id = {}", campaign_id)],
            offset=0,
            limit=1,
            ascending=True,
            counters=query.includeCounters,
        )
    if page is None:
        raise unauthorized(request)
    if not page.parts:
        raise NotFound(f"campaign {id} not found")
    return pieces_body(request, page.parts)


@router.get(
    "/{id}/contacts",
    response_model=v2.CampaignContactPaginatedResponse,
    summary="List a campaign's contacts (v2)",
)
async def list_contacts_v2(
    id: str, query: Annotated[v2.ContactListQuery, Query()], org: CurrentOrg, session: Session
) -> Any:
    """The audience in dial order (or by status), each contact with its outcome."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    return json_body(await contacts_page(session, campaign_id=campaign.id, query=query))
