"""Campaign use cases: create, read, list, update, end and archive. Services never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.bulk import end_unplaced_calls
from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED
from campaign_service.calls.events import notify_dispatchers
from campaign_service.calls.schemas import CallDetails, CallListQuery, CallPaginatedResponse
from campaign_service.campaigns import repository as repo
from campaign_service.campaigns import state, v2
from campaign_service.campaigns.schemas import (
    DEFAULT_MAX_CONCURRENCY,
    CampaignListQuery,
    CampaignStatus,
    CreateCampaignDTO,
    CreateCustomerDTO,
    DialPlanEntry,
    UpdateCampaignDTO,
)
from campaign_service.campaigns.views import call_details, campaign_bodies, campaign_body
from campaign_service.db import models
from campaign_service.errors import BadRequest, NotFound
from campaign_service.schema_types import PaginationMeta

EXTRA_CONFIG_FIELDS = (
    "assistantOverrides",
    "squadOverrides",
    "server",
    "serverMessages",
    "predialPlan",
)


def parse_id(value: str, what: str = "campaign") -> uuid.UUID:
    """Malformed IDs cannot exist, so they answer 404 like any unknown ID."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} {value} not found") from None


def _millis(now: datetime) -> datetime:
    """Timestamps are stored at the millisecond precision responses show. With more, a createdAt
    read from a response and passed back as a filter (createdAtGt=...) would still match the
    campaign it was read from."""
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_CUSTOMERS = TypeAdapter(list[CreateCustomerDTO])


def _call_entries(
    *,
    phone_number_id: str | None,
    customers: list[CreateCustomerDTO] | None,
    dial_plan: list[DialPlanEntry] | None,
) -> list[dict[str, Any]]:
    """The customers to call, grouped by the number that calls them (see insert_calls)."""
    if dial_plan is not None:
        return [
            {
                "index": i,
                "phoneNumberId": entry.phoneNumberId,
                "customers": _CUSTOMERS.dump_python(entry.customers, exclude_none=True),
            }
            for i, entry in enumerate(dial_plan)
        ]
    assert phone_number_id is not None
    assert customers is not None
    return [
        {
            "index": None,
            "phoneNumberId": phone_number_id,
            "customers": _CUSTOMERS.dump_python(customers, exclude_none=True),
        }
    ]


def _check_concurrency(value: int, org: models.Org) -> None:
    if value > org.concurrency_limit:
        raise BadRequest(
            f"maxConcurrency {value} exceeds your organization's concurrency limit of "
            f"{org.concurrency_limit}"
        )


async def create_campaign(
    session: AsyncSession, *, org: models.Org, dto: CreateCampaignDTO, now: datetime
) -> orjson.Fragment:
    """Store the campaign and one call record per customer in the caller's transaction."""
    now = _millis(now)
    if "maxConcurrency" in dto.model_fields_set:
        max_concurrency = dto.maxConcurrency
        _check_concurrency(max_concurrency, org)
    else:
        max_concurrency = min(DEFAULT_MAX_CONCURRENCY, org.concurrency_limit)
    campaign_id = uuid.uuid4()
    schedule = dto.schedulePlan
    campaign = await repo.insert_campaign(
        session,
        {
            "id": campaign_id,
            "org_id": org.id,
            "name": dto.name,
            "status": CampaignStatus.SCHEDULED.value,
            "assistant_id": dto.assistantId,
            "workflow_id": dto.workflowId,
            "squad_id": dto.squadId,
            "phone_number_id": dto.phoneNumberId,
            "dial_plan_numbers": (
                [entry.phoneNumberId for entry in dto.dialPlan]
                if dto.dialPlan is not None
                else None
            ),
            "has_schedule_plan": schedule is not None,
            "earliest_at": schedule.earliestAt if schedule else None,
            "latest_at": schedule.latestAt if schedule else None,
            "max_concurrency": max_concurrency,
            "extra_config": dto.model_dump(
                include=set(EXTRA_CONFIG_FIELDS), exclude_none=True, mode="json"
            ),
            "created_at": now,
            "updated_at": now,
        },
    )
    entries = _call_entries(
        phone_number_id=dto.phoneNumberId, customers=dto.customers, dial_plan=dto.dialPlan
    )
    await repo.insert_calls(
        session, campaign_id=campaign_id, org_id=org.id, entries=entries, now=now
    )
    await notify_dispatchers(session, org.id)
    return await campaign_body(session, campaign)


async def _load(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, for_update: bool = False
) -> models.Campaign:
    campaign = await repo.get_campaign(
        session, org_id=org_id, campaign_id=parse_id(campaign_id), for_update=for_update
    )
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


async def get_campaign(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str
) -> orjson.Fragment:
    return await campaign_body(
        session, await _load(session, org_id=org_id, campaign_id=campaign_id)
    )


def _list_filters(query: CampaignListQuery) -> list[Any]:
    c = models.Campaign
    filters: list[Any] = []
    if query.id is not None:
        try:
            filters.append(c.id == uuid.UUID(query.id))
        except ValueError:
            filters.append(False)  # a malformed ID matches nothing
    if query.status == "cancelled":
        filters.append(c.ended_reason.in_([r.value for r in state.USER_END_REASON.values()]))
    elif query.status == "archived":
        filters.append(False)  # archived campaigns are never listed
    elif query.status is not None:
        filters.append(c.status == query.status)
    bounds = (
        (query.createdAtGt, c.created_at.__gt__),
        (query.createdAtLt, c.created_at.__lt__),
        (query.createdAtGe, c.created_at.__ge__),
        (query.createdAtLe, c.created_at.__le__),
        (query.updatedAtGt, c.updated_at.__gt__),
        (query.updatedAtLt, c.updated_at.__lt__),
        (query.updatedAtGe, c.updated_at.__ge__),
        (query.updatedAtLe, c.updated_at.__le__),
    )
    filters.extend(op(value) for value, op in bounds if value is not None)
    return filters


async def _page(
    session: AsyncSession, *, org_id: uuid.UUID, query: CampaignListQuery
) -> tuple[Sequence[models.Campaign], PaginationMeta]:
    """One page of the org's campaigns for a list query, and its pagination metadata."""
    campaigns, total = await repo.page_of_campaigns(
        session,
        org_id=org_id,
        filters=_list_filters(query),
        offset=(query.page - 1) * query.limit,
        limit=query.limit,
        ascending=query.sortOrder == "ASC",
    )
    metadata = PaginationMeta.for_page(
        total=total, page=query.page, limit=query.limit, sort_order=query.sortOrder
    )
    return campaigns, metadata


async def list_campaigns(
    session: AsyncSession, *, org_id: uuid.UUID, query: CampaignListQuery
) -> bytes:
    """A CampaignPaginatedResponse body."""
    campaigns, metadata = await _page(session, org_id=org_id, query=query)
    return orjson.dumps(
        {"results": await campaign_bodies(session, campaigns), "metadata": metadata.model_dump()}
    )


async def _end_by_user(session: AsyncSession, campaign: models.Campaign, now: datetime) -> None:
    current = CampaignStatus(campaign.status)
    reason = state.user_end_reason(current)
    state.require_transition(current, CampaignStatus.ENDED)
    await end_unplaced_calls(
        session,
        campaign_ids=[campaign.id],
        ended_reason=CANCELLED_BEFORE_PLACED,
        source="user",
        now=now,
    )
    campaign.status = CampaignStatus.ENDED.value
    campaign.ended_reason = reason.value
    campaign.ended_at = now


async def _apply_config(
    session: AsyncSession,
    campaign: models.Campaign,
    dto: UpdateCampaignDTO,
    *,
    org: models.Org,
    now: datetime,
) -> None:
    fields = dto.config_fields()
    targets = {"assistantId", "workflowId", "squadId"} & fields
    if targets:
        # The campaign targets exactly one of the three; naming another switches to it.
        campaign.assistant_id = dto.assistantId
        campaign.workflow_id = dto.workflowId
        campaign.squad_id = dto.squadId
    if dto.maxConcurrency is not None:
        _check_concurrency(dto.maxConcurrency, org)
        campaign.max_concurrency = dto.maxConcurrency
    if dto.schedulePlan is not None:
        campaign.has_schedule_plan = True
        campaign.earliest_at = dto.schedulePlan.earliestAt
        campaign.latest_at = dto.schedulePlan.latestAt
    if dto.phoneNumberId is not None:
        # Every customer is now called from this one number (a dial plan is flattened).
        campaign.phone_number_id = dto.phoneNumberId
        campaign.dial_plan_numbers = None
        await repo.set_phone_number(
            session, campaign_id=campaign.id, phone_number_id=dto.phoneNumberId, now=now
        )
    if dto.dialPlan is not None:
        # Nothing has been dialed while scheduled, so the audience is replaced outright.
        campaign.phone_number_id = None
        campaign.dial_plan_numbers = [entry.phoneNumberId for entry in dto.dialPlan]
        await repo.delete_calls(session, campaign_id=campaign.id)
        await repo.insert_calls(
            session,
            campaign_id=campaign.id,
            org_id=campaign.org_id,
            entries=_call_entries(phone_number_id=None, customers=None, dial_plan=dto.dialPlan),
            now=now,
        )


async def update_campaign(
    session: AsyncSession,
    *,
    org: models.Org,
    campaign_id: str,
    dto: UpdateCampaignDTO,
    now: datetime,
) -> orjson.Fragment:
    """Apply a PATCH: config changes while scheduled, a rename while not ended, or an end."""
    now = _millis(now)
    campaign = await _load(session, org_id=org.id, campaign_id=campaign_id, for_update=True)
    if not dto.model_fields_set:
        return await campaign_body(session, campaign)
    current = CampaignStatus(campaign.status)
    if current is CampaignStatus.ENDED:
        raise BadRequest("campaign is ended and cannot be changed")
    state.require_config_editable(current, dto.config_fields())
    await _apply_config(session, campaign, dto, org=org, now=now)
    if dto.name is not None:
        campaign.name = dto.name
    if dto.status is not None:
        await _end_by_user(session, campaign, now)
    campaign.updated_at = now
    await session.flush()
    return await campaign_body(session, campaign)


async def archive_campaign(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, now: datetime
) -> orjson.Fragment:
    """DELETE: end the campaign if it is still running, then hide it from get and list."""
    now = _millis(now)
    campaign = await _load(session, org_id=org_id, campaign_id=campaign_id, for_update=True)
    if campaign.status != CampaignStatus.ENDED.value:
        await _end_by_user(session, campaign, now)
    campaign.archived_at = now
    campaign.updated_at = now
    await session.flush()
    return await campaign_body(session, campaign)


async def list_calls(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, query: CallListQuery
) -> CallPaginatedResponse:
    campaign = await _load(session, org_id=org_id, campaign_id=campaign_id)
    rows, total = await repo.page_of_calls(
        session,
        campaign_id=campaign.id,
        status=query.status.value if query.status else None,
        offset=(query.page - 1) * query.limit,
        limit=query.limit,
        ascending=query.sortOrder == "ASC",
    )
    return CallPaginatedResponse.model_construct(
        results=[call_details(r) for r in rows],
        metadata=PaginationMeta.for_page(
            total=total, page=query.page, limit=query.limit, sort_order=query.sortOrder
        ),
    )


async def get_call(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, call_id: str
) -> CallDetails:
    campaign = await _load(session, org_id=org_id, campaign_id=campaign_id)
    row = await repo.get_call(session, campaign_id=campaign.id, call_id=parse_id(call_id, "call"))
    if row is None:
        raise NotFound(f"call {call_id} not found")
    return call_details(row)


async def list_summaries(
    session: AsyncSession, *, org_id: uuid.UUID, query: v2.CampaignListQueryV2
) -> v2.CampaignSummaryPaginatedResponse:
    """The v2 list: campaign summaries, with counters when asked."""
    campaigns, metadata = await _page(session, org_id=org_id, query=query)
    return v2.CampaignSummaryPaginatedResponse(
        results=await v2.summaries(session, campaigns, counters=query.includeCounters),
        metadata=metadata,
    )


async def get_summary(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, counters: bool
) -> v2.CampaignSummary:
    campaign = await _load(session, org_id=org_id, campaign_id=campaign_id)
    (summary,) = await v2.summaries(session, [campaign], counters=counters)
    return summary


async def list_contacts(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, query: v2.ContactListQuery
) -> v2.CampaignContactPaginatedResponse:
    campaign = await _load(session, org_id=org_id, campaign_id=campaign_id)
    return await v2.contacts_page(session, campaign_id=campaign.id, query=query)
