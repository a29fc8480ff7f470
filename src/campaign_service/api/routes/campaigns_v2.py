"""Vapi's v2 campaign paths (`/v2/campaign`), for clients of Vapi's current API.

Create, update and delete behave exactly as on `/campaigns` and answer the full Campaign;
get and list answer CampaignSummary (no audience, no call map) with optional counters, and
`/contacts` lists the audience with each contact's outcome.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from campaign_service.api.deps import CurrentOrg, Session
from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.routes import campaigns
from campaign_service.api.routes.campaigns import json_body
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.campaigns import schemas_v2 as v2
from campaign_service.campaigns import service
from campaign_service.campaigns.schemas import Campaign
from campaign_service.readmodel.campaigns import summaries
from campaign_service.readmodel.contacts import contacts_page

router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/v2/campaign",
    tags=["Vapi v2 paths"],
    responses=ERROR_RESPONSES,
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
router.add_api_route(
    "/{id}",
    campaigns.update_campaign,
    methods=["PATCH"],
    response_model=Campaign,
    summary="Update or cancel a campaign (v2)",
    name="update_campaign_v2",
)
router.add_api_route(
    "/{id}",
    campaigns.delete_campaign,
    methods=["DELETE"],
    response_model=Campaign,
    summary="Archive a campaign (v2)",
    name="delete_campaign_v2",
)


@router.get("", response_model=v2.CampaignSummaryPaginatedResponse, summary="List campaigns (v2)")
async def list_campaigns_v2(
    query: Annotated[v2.CampaignListQueryV2, Query()], org: CurrentOrg, session: Session
) -> Any:
    """Campaign summaries; `includeCounters=true` adds contactCounters and callMetrics."""
    page = await service.list_campaigns(session, org_id=org.id, query=query)
    results = await summaries(session, page.campaigns, counters=query.includeCounters)
    return json_body(v2.CampaignSummaryPaginatedResponse(results=results, metadata=page.metadata))


@router.get("/{id}", response_model=v2.CampaignSummary, summary="Get a campaign (v2)")
async def get_campaign_v2(
    id: str, query: Annotated[v2.SummaryQuery, Query()], org: CurrentOrg, session: Session
) -> Any:
    """One campaign summary; `includeCounters=true` adds contactCounters and callMetrics."""
    campaign = await service.get_campaign(session, org_id=org.id, campaign_id=id)
    (summary,) = await summaries(session, [campaign], counters=query.includeCounters)
    return json_body(summary)


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
