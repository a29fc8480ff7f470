"""Turn campaign and call rows into the API's response models."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row

from campaign_service.calls.schemas import CallDetails, CallStatus
from campaign_service.campaigns.schemas import (
    Campaign,
    CampaignEndedReason,
    CampaignStatus,
    CreateCustomerDTO,
    DialPlanEntry,
    SchedulePlan,
)
from campaign_service.db import models

IN_FLIGHT = frozenset({CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING})
VOICEMAIL = "voicemail"


def call_details(row: Row[Any]) -> CallDetails:
    return CallDetails(
        id=str(row.id),
        campaignId=str(row.campaign_id),
        position=row.position,
        customer=row.customer,
        phoneNumberId=row.phone_number_id,
        status=CallStatus(row.status),
        endedReason=row.ended_reason,
        startedAt=row.started_at,
        endedAt=row.ended_at,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


def _customer(data: dict[str, Any]) -> CreateCustomerDTO:
    # Stored customers were validated on the way in; skip re-validating thousands of them.
    return CreateCustomerDTO.model_construct(**data)


def _audience(
    campaign: models.Campaign, calls: Sequence[Row[Any]]
) -> tuple[list[CreateCustomerDTO] | None, list[DialPlanEntry] | None]:
    if campaign.dial_plan_numbers is None:
        return [_customer(row.customer) for row in calls], None
    entries = [
        DialPlanEntry.model_construct(phoneNumberId=number, customers=[])
        for number in campaign.dial_plan_numbers
    ]
    for row in calls:
        entries[row.dial_plan_index].customers.append(_customer(row.customer))
    return None, entries


def campaign_view(campaign: models.Campaign, calls: Sequence[Row[Any]]) -> Campaign:
    """The full Campaign body; the counters are computed from the same call rows as `calls`."""
    by_status: Counter[str] = Counter(row.status for row in calls)
    voicemail = sum(1 for row in calls if row.status == "ended" and row.ended_reason == VOICEMAIL)
    customers, dial_plan = _audience(campaign, calls)
    schedule = (
        SchedulePlan.model_construct(earliestAt=campaign.earliest_at, latestAt=campaign.latest_at)
        if campaign.has_schedule_plan and campaign.earliest_at is not None
        else None
    )
    extra = campaign.extra_config
    return Campaign.model_construct(
        status=CampaignStatus(campaign.status),
        endedReason=CampaignEndedReason(campaign.ended_reason) if campaign.ended_reason else None,
        name=campaign.name,
        assistantId=campaign.assistant_id,
        workflowId=campaign.workflow_id,
        squadId=campaign.squad_id,
        phoneNumberId=campaign.phone_number_id,
        dialPlan=dial_plan,
        schedulePlan=schedule,
        customers=customers,
        id=str(campaign.id),
        orgId=str(campaign.org_id),
        createdAt=campaign.created_at,
        updatedAt=campaign.updated_at,
        calls={str(row.id): call_details(row) for row in calls},
        callsCounterScheduled=by_status[CallStatus.SCHEDULED],
        callsCounterQueued=by_status[CallStatus.QUEUED],
        callsCounterInProgress=sum(by_status[s] for s in IN_FLIGHT),
        callsCounterEndedVoicemail=voicemail,
        callsCounterEnded=by_status[CallStatus.ENDED],
        maxConcurrency=campaign.max_concurrency,
        assistantOverrides=extra.get("assistantOverrides"),
        squadOverrides=extra.get("squadOverrides"),
        server=extra.get("server"),
        serverMessages=extra.get("serverMessages"),
        predialPlan=extra.get("predialPlan"),
    )


def group_calls(rows: Iterable[Row[Any]]) -> dict[Any, list[Row[Any]]]:
    grouped: dict[Any, list[Row[Any]]] = {}
    for row in rows:
        grouped.setdefault(row.campaign_id, []).append(row)
    return grouped
