"""Campaign use cases: create, read, list, update, end and archive. Services never commit.

They return domain results (campaign rows, pages of them); the routes render those with the
read model. Status changes go through `lifecycle`; call rows through the calls repository.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.campaigns import control, lifecycle
from campaign_service.campaigns import repository as repo
from campaign_service.campaigns.schemas import (
    DEFAULT_MAX_CONCURRENCY,
    CreateCampaignDTO,
    CreateCustomerDTO,
    DialPlanEntry,
    UpdateCampaignDTO,
)
from campaign_service.campaigns.schemas_control import CallingWindow
from campaign_service.campaigns.state import (
    CampaignStatus,
    Stage,
    require_config_editable,
)
from campaign_service.db import models
from campaign_service.db.notify import notify_dispatchers
from campaign_service.errors import BadRequest, NotFound
from campaign_service.readmodel.campaigns import EXTRA_CONFIG_FIELDS
from campaign_service.timeutil import iso_z

# The call length estimates assume without observed calls (Settings.typical_call_seconds).
DEFAULT_CALL_SECONDS = 60.0


@dataclass(frozen=True)
class CreatedCampaign:
    """A new campaign's row and its calls as rendered right after their insert (its body
    is built from them, not read back)."""

    campaign: models.Campaign
    calls: calls.RenderedCalls


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
    as_json: bool = False,
) -> list[dict[str, Any]]:
    """The customers to call, grouped by the number that calls them (see insert_calls):
    as dicts, or (`as_json`) as the JSON array insert_calls sends, serialized straight from
    the models (no dict per customer is built)."""
    groups: list[tuple[int | None, str, list[CreateCustomerDTO]]]
    if dial_plan is not None:
        groups = [(i, entry.phoneNumberId, entry.customers) for i, entry in enumerate(dial_plan)]
    else:
        assert phone_number_id is not None
        assert customers is not None
        groups = [(None, phone_number_id, customers)]
    if as_json:
        return [
            {
                "index": index,
                "phoneNumberId": number,
                "size": len(group),
                "customersJson": _CUSTOMERS.dump_json(group, exclude_none=True),
            }
            for index, number, group in groups
        ]
    return [
        {
            "index": index,
            "phoneNumberId": number,
            "customers": _CUSTOMERS.dump_python(group, exclude_none=True),
        }
        for index, number, group in groups
    ]


def _control_config(dto: CreateCampaignDTO) -> dict[str, Any]:
    """The extension settings as stored (validated, defaults filled in)."""
    return {
        "calling_window": dto.callingWindow.model_dump(mode="json") if dto.callingWindow else None,
        "retry_plan": dto.retryPlan.model_dump(mode="json") if dto.retryPlan else None,
    }


def _check_concurrency(value: int, org: models.Org) -> None:
    if value > org.concurrency_limit:
        raise BadRequest(
            f"maxConcurrency {value} exceeds your organization's concurrency limit of "
            f"{org.concurrency_limit}"
        )


async def create_campaign(
    session: AsyncSession,
    *,
    org: models.Org,
    dto: CreateCampaignDTO,
    now: datetime,
    default_call_seconds: float = DEFAULT_CALL_SECONDS,
) -> models.Campaign:
    """Store the campaign and one call record per customer in the caller's transaction."""
    created = await create_rendered_campaign(
        session, org=org, dto=dto, now=now, default_call_seconds=default_call_seconds
    )
    return created.campaign


async def create_rendered_campaign(
    session: AsyncSession,
    *,
    org: models.Org,
    dto: CreateCampaignDTO,
    now: datetime,
    default_call_seconds: float = DEFAULT_CALL_SECONDS,
) -> CreatedCampaign:
    """`create_campaign`, also answering the new calls as rendered right after their insert
    (what the create's answer is built from)."""
    now = _millis(now)
    if "maxConcurrency" in dto.model_fields_set:
        max_concurrency = dto.maxConcurrency
        _check_concurrency(max_concurrency, org)
    else:
        max_concurrency = min(DEFAULT_MAX_CONCURRENCY, org.concurrency_limit)
    schedule = dto.schedulePlan
    window = dto.callingWindow
    # Calling hours need each customer's number and zone: dicts then, else JSON at once.
    entries = _call_entries(
        phone_number_id=dto.phoneNumberId,
        customers=dto.customers,
        dial_plan=dto.dialPlan,
        as_json=window is None,
    )
    zones = await control.audience_zones(entries, window) if window else None
    estimate = await control.feasibility(
        session,
        org=org,
        contacts=dto.customer_count(),
        zones=zones,
        window=window,
        max_concurrency=max_concurrency,
        start=max(now, schedule.earliestAt) if schedule else now,
        latest_at=schedule.latestAt if schedule else None,
        default_call_seconds=default_call_seconds,
    )
    campaign = await repo.insert_campaign(
        session,
        {
            "id": uuid.uuid4(),
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
            **_control_config(dto),
            "feasibility": estimate.model_dump(mode="json", exclude_none=True),
            "created_at": now,
            "updated_at": now,
        },
    )
    rendered = await calls.insert_and_render_calls(
        session, campaign_id=campaign.id, org_id=org.id, entries=entries, now=now, time_zones=zones
    )
    del entries, zones  # the customers are stored: their JSON here can go
    await lifecycle.record_created(session, campaign_id=campaign.id, now=now)
    await notify_dispatchers(session, org.id)
    return CreatedCampaign(campaign, rendered)


_TARGETS = ("assistantId", "workflowId", "squadId")
_NUMBERS = ("phoneNumberId", "dialPlan")


async def duplicate_body(
    session: AsyncSession, *, org_id: uuid.UUID, dto: CreateCampaignDTO, now: datetime
) -> dict[str, Any]:
    """The create body of a duplicate: the source campaign's configuration (404 unless it is
    one of this org's campaigns), its audience unless the request gives customers or a
    dialPlan, and the request's own fields on top. The caller validates it as a new create."""
    assert dto.duplicateFromCampaignId is not None
    source = await get_campaign(session, org_id=org_id, campaign_id=dto.duplicateFromCampaignId)
    body: dict[str, Any] = {"name": source.name, "maxConcurrency": source.max_concurrency}
    for key, value in (
        ("assistantId", source.assistant_id),
        ("workflowId", source.workflow_id),
        ("squadId", source.squad_id),
    ):
        if value is not None:
            body[key] = value
    body.update(source.extra_config or {})
    if source.calling_window is not None:
        body["callingWindow"] = source.calling_window
    if source.retry_plan is not None:
        body["retryPlan"] = source.retry_plan
    # A schedule is copied while it can still apply (its latestAt, if any, is ahead).
    if source.has_schedule_plan and (source.latest_at is None or source.latest_at > now):
        plan: dict[str, Any] = {"earliestAt": iso_z(source.earliest_at or now)}
        if source.latest_at is not None:
            plan["latestAt"] = iso_z(source.latest_at)
        body["schedulePlan"] = plan
    audience = await calls.audience_of(session, campaign_id=source.id)
    if source.dial_plan_numbers is not None:
        body["dialPlan"] = [
            {"phoneNumberId": number, "customers": [c for i, c in audience if i == index]}
            for index, number in enumerate(source.dial_plan_numbers)
        ]
    else:
        body["phoneNumberId"] = source.phone_number_id
        body["customers"] = [customer for _, customer in audience]
    given = dto.model_dump(mode="json", exclude_unset=True, exclude={"duplicateFromCampaignId"})
    # A field the request gives replaces its whole group of alternatives in the source.
    if any(key in given for key in _TARGETS):
        for key in _TARGETS:
            body.pop(key, None)
    if "dialPlan" in given or "customers" in given:
        body.pop("dialPlan", None)
        body.pop("customers", None)
    if "dialPlan" in given:
        body.pop("phoneNumberId", None)
    if "phoneNumberId" in given and "dialPlan" in body:
        # The source's dialPlan entries become one audience called from the given number.
        entries = body.pop("dialPlan")
        body.setdefault("customers", [c for entry in entries for c in entry["customers"]])
    body.update(given)
    return body


async def get_campaign(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, for_update: bool = False
) -> models.Campaign:
    """A live campaign of this org, or a 404."""
    campaign = await repo.get_campaign(
        session, org_id=org_id, campaign_id=parse_id(campaign_id), for_update=for_update
    )
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def _config_values(dto: UpdateCampaignDTO, *, org: models.Org) -> dict[str, Any]:
    """The campaign columns a PATCH changes (besides the audience)."""
    values: dict[str, Any] = {}
    if {"assistantId", "workflowId", "squadId"} & dto.config_fields():
        # The campaign targets exactly one of the three; naming another switches to it.
        values.update(
            assistant_id=dto.assistantId, workflow_id=dto.workflowId, squad_id=dto.squadId
        )
    if dto.maxConcurrency is not None:
        _check_concurrency(dto.maxConcurrency, org)
        values["max_concurrency"] = dto.maxConcurrency
    if dto.schedulePlan is not None:
        values.update(
            has_schedule_plan=True,
            earliest_at=dto.schedulePlan.earliestAt,
            latest_at=dto.schedulePlan.latestAt,
        )
    if dto.phoneNumberId is not None:
        # Every customer is now called from this one number (a dial plan is flattened).
        values.update(phone_number_id=dto.phoneNumberId, dial_plan_numbers=None)
    if dto.dialPlan is not None:
        values.update(
            phone_number_id=None,
            dial_plan_numbers=[entry.phoneNumberId for entry in dto.dialPlan],
        )
    if dto.name is not None:
        values["name"] = dto.name
    return values


async def _replace_audience(
    session: AsyncSession, campaign: models.Campaign, dto: UpdateCampaignDTO, now: datetime
) -> None:
    if dto.phoneNumberId is not None:
        await calls.set_phone_number(
            session, campaign_id=campaign.id, phone_number_id=dto.phoneNumberId, now=now
        )
    if dto.dialPlan is not None:
        # Nothing has been dialed while scheduled, so the audience is replaced outright.
        entries = _call_entries(phone_number_id=None, customers=None, dial_plan=dto.dialPlan)
        window = campaign.calling_window
        zones = (
            await control.audience_zones(entries, CallingWindow.model_validate(window))
            if window
            else None
        )
        await calls.delete_unplaced_calls(session, campaign_id=campaign.id)
        await calls.insert_calls(
            session,
            campaign_id=campaign.id,
            org_id=campaign.org_id,
            entries=entries,
            now=now,
            time_zones=zones,
        )


async def update_campaign(
    session: AsyncSession,
    *,
    org: models.Org,
    campaign_id: str,
    dto: UpdateCampaignDTO,
    now: datetime,
) -> models.Campaign:
    """Apply a PATCH: config changes while scheduled, a rename while not ended, or an end."""
    now = _millis(now)
    campaign = await get_campaign(session, org_id=org.id, campaign_id=campaign_id, for_update=True)
    if not dto.model_fields_set:
        return campaign
    current = CampaignStatus(campaign.status)
    if current is CampaignStatus.ENDED:
        raise BadRequest("campaign is ended and cannot be changed")
    require_config_editable(current, dto.config_fields())
    values = _config_values(dto, org=org)
    await _replace_audience(session, campaign, dto, now)
    if dto.status is not None:
        await lifecycle.end_by_user(
            session, campaign_id=campaign.id, current=Stage(current.value), now=now
        )
    return await repo.update_config(
        session, campaign_id=campaign.id, values={**values, "updated_at": now}
    )


async def archive_campaign(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: str, now: datetime
) -> models.Campaign:
    """DELETE: end the campaign if it is still running, then hide it from get and list."""
    now = _millis(now)
    campaign = await get_campaign(session, org_id=org_id, campaign_id=campaign_id, for_update=True)
    await lifecycle.archive_by_user(
        session, campaign_id=campaign.id, current=Stage(campaign.status), now=now
    )
    await session.refresh(campaign)
    return campaign
