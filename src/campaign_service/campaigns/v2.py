"""Vapi's v2 campaign views: campaign summaries with contact counters, and contacts.

v2 names the same data differently. A contact is one customer of the campaign, i.e. one call
record here (same ID). Its status is derived from the call:
  contact.pending     - not placed yet and not being dialed;
  contact.dispatched  - being dialed or placed and not ended;
  contact.completed   - placed, and the call ended (whatever its endedReason);
  contact.failed      - ended without being placed because the provider refused it;
  contact.skipped     - ended without being placed because the campaign was ended by the user
                        or its capacity window closed;
  contact.predial-failed - never (this service has no pre-dial webhook yet).
callMetrics: `dialed` counts placed calls; `connected` those answered (reached in-progress)
that were not voicemail.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED
from campaign_service.campaigns.schemas import (
    DESC,
    CampaignEndedReason,
    CampaignListQuery,
    CampaignStatus,
    SchedulePlan,
)
from campaign_service.db import models
from campaign_service.schema_types import (
    MAX_PAGE,
    InputModel,
    OutputModel,
    PaginationMeta,
    Timestamp,
)


class ContactStatus(StrEnum):
    PENDING = "contact.pending"
    DISPATCHED = "contact.dispatched"
    COMPLETED = "contact.completed"
    FAILED = "contact.failed"
    SKIPPED = "contact.skipped"
    PREDIAL_FAILED = "contact.predial-failed"


class CampaignContactCounters(OutputModel):
    """Contacts per status. Their sum is the audience; pending + dispatched is what is left."""

    pending: int = Field(description="Contacts not dialed yet.")
    dispatched: int = Field(description="Contacts being dialed or on a call.")
    completed: int = Field(description="Contacts whose call was placed and has ended.")
    failed: int = Field(description="Contacts the telephony provider refused to call.")
    skipped: int = Field(
        description="Contacts never dialed: the campaign was ended first, or "
        "its capacity window closed."
    )
    predialFailed: int = Field(description="Contacts refused by the pre-dial webhook (always 0).")


class CampaignCallMetrics(OutputModel):
    dialed: int = Field(description="Contacts for which a call was actually placed.")
    connected: int = Field(
        description="Placed calls a person picked up (answered, not voicemail). "
        "The pick-up rate is connected / dialed."
    )


class CampaignSummary(OutputModel):
    """A campaign without its audience and call map (v2 get and list)."""

    status: CampaignStatus = Field(description="This is the status of the campaign.")
    endedReason: CampaignEndedReason | None = Field(
        default=None, description="This is the explanation for how the campaign ended."
    )
    name: str = Field(description="This is the name of the campaign.")
    id: str = Field(description="This is the unique identifier for the campaign.")
    orgId: str = Field(description="The org this campaign belongs to.")
    createdAt: Timestamp = Field(description="When the campaign was created.")
    updatedAt: Timestamp = Field(description="When the campaign was last updated.")
    assistantId: str | None = Field(default=None, description=DESC["assistantId"])
    squadId: str | None = Field(default=None, description=DESC["squadId"])
    phoneNumberId: str | None = Field(default=None, description=DESC["phoneNumberId"])
    schedulePlan: SchedulePlan | None = Field(default=None, description=DESC["schedulePlan"])
    maxConcurrency: int | None = Field(default=None, description=DESC["maxConcurrency"])
    assistantOverrides: dict[str, Any] | None = Field(
        default=None, description=DESC["assistantOverrides"]
    )
    squadOverrides: dict[str, Any] | None = Field(default=None, description=DESC["squadOverrides"])
    server: dict[str, Any] | None = Field(default=None, description=DESC["server"])
    serverMessages: list[str] | None = Field(default=None, description=DESC["serverMessages"])
    predialPlan: dict[str, Any] | None = Field(default=None, description=DESC["predialPlan"])
    contactCounters: CampaignContactCounters | None = Field(
        default=None, description="Per-status contact counts (with includeCounters=true)."
    )
    callMetrics: CampaignCallMetrics | None = Field(
        default=None, description="Call-level outcomes (with includeCounters=true)."
    )


class CampaignSummaryPaginatedResponse(OutputModel):
    results: list[CampaignSummary] = Field(description="This page's campaigns.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class CampaignContactWithOutcome(OutputModel):
    id: str = Field(description="The contact's ID (the same as its call record's ID).")
    number: str = Field(description="The customer's number (or SIP URI).")
    status: ContactStatus = Field(
        description="pending: not dialed yet; dispatched: being dialed or on a call; completed: "
        "its call was placed and has ended; failed: the provider refused the call; skipped: "
        "never dialed because the campaign was ended or its capacity window closed."
    )
    name: str | None = Field(default=None, description="The customer's name.")
    callId: str | None = Field(default=None, description="Set once the contact was dispatched.")
    dispatchedAt: Timestamp | None = Field(default=None, description="When it was dispatched.")
    endedReason: str | None = Field(default=None, description="The call's endedReason.")


class CampaignContactPaginatedResponse(OutputModel):
    results: list[CampaignContactWithOutcome] = Field(description="This page's contacts.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class CampaignListQueryV2(CampaignListQuery):
    includeCounters: bool = Field(
        default=False, description="Add contactCounters and callMetrics to each campaign."
    )


class SummaryQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    includeCounters: bool = Field(default=False, description="Add contactCounters and callMetrics.")


class ContactListQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    status: list[ContactStatus] | None = Field(
        default=None, description="Only contacts in these statuses (repeat the key for several)."
    )
    limit: int = Field(default=50, ge=0, le=1000, description="Items per page (0 to 1000).")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    sortBy: Literal["position", "status"] = Field(
        default="position",
        description="`position` is the upload (= dial) order; `status` sorts in lifecycle order.",
    )


_CONTACT_STATUS_SQL = f"""
    CASE
      WHEN k.status = 'scheduled' AND k.lease_expires_at IS NULL THEN 'contact.pending'
      WHEN k.status <> 'ended' THEN 'contact.dispatched'
      WHEN k.started_at IS NOT NULL THEN 'contact.completed'
      WHEN k.ended_reason IN ('{CANCELLED_BEFORE_PLACED}', '{CAPACITY_WINDOW_CLOSED}')
        THEN 'contact.skipped'
      ELSE 'contact.failed'
    END"""

_COUNTERS = text(
    f"""
    SELECT k.campaign_id,
           count(*) FILTER (WHERE s.status = 'contact.pending') AS pending,
           count(*) FILTER (WHERE s.status = 'contact.dispatched') AS dispatched,
           count(*) FILTER (WHERE s.status = 'contact.completed') AS completed,
           count(*) FILTER (WHERE s.status = 'contact.failed') AS failed,
           count(*) FILTER (WHERE s.status = 'contact.skipped') AS skipped,
           count(*) FILTER (WHERE k.started_at IS NOT NULL) AS dialed,
           count(*) FILTER (
               WHERE k.ended_reason IS DISTINCT FROM 'voicemail'
                 AND (k.status IN ('in-progress', 'forwarding') OR EXISTS (
                     SELECT 1 FROM call_events e
                     WHERE e.call_id = k.id AND e.to_status IN ('in-progress', 'forwarding')))
           ) AS connected
    FROM calls k CROSS JOIN LATERAL (SELECT {_CONTACT_STATUS_SQL} AS status) s
    WHERE k.campaign_id = ANY(:ids) GROUP BY k.campaign_id
    """
)

_STATUS_ORDER = ", ".join(f"'{s.value}'" for s in ContactStatus)


async def summaries(
    session: AsyncSession, campaigns: Sequence[models.Campaign], *, counters: bool
) -> list[CampaignSummary]:
    by_campaign: dict[uuid.UUID, Any] = {}
    if counters and campaigns:
        result = await session.execute(_COUNTERS, {"ids": [c.id for c in campaigns]})
        by_campaign = {row.campaign_id: row for row in result}
    return [_summary(c, by_campaign.get(c.id), counters) for c in campaigns]


def _summary(campaign: models.Campaign, row: Any, counters: bool) -> CampaignSummary:
    extra = campaign.extra_config or {}
    schedule = None
    if campaign.has_schedule_plan and campaign.earliest_at is not None:
        schedule = SchedulePlan.model_construct(
            earliestAt=campaign.earliest_at, latestAt=campaign.latest_at
        )
    summary = CampaignSummary(
        status=CampaignStatus(campaign.status),
        endedReason=campaign.ended_reason,
        name=campaign.name,
        id=str(campaign.id),
        orgId=str(campaign.org_id),
        createdAt=campaign.created_at,
        updatedAt=campaign.updated_at,
        assistantId=campaign.assistant_id,
        squadId=campaign.squad_id,
        phoneNumberId=campaign.phone_number_id,
        maxConcurrency=campaign.max_concurrency,
        **{
            key: extra.get(key)
            for key in (
                "assistantOverrides",
                "squadOverrides",
                "server",
                "serverMessages",
                "predialPlan",
            )
        },
    )
    summary.schedulePlan = schedule
    if counters:
        values = {
            k: int(getattr(row, k, 0) or 0)
            for k in (
                "pending",
                "dispatched",
                "completed",
                "failed",
                "skipped",
                "dialed",
                "connected",
            )
        }
        summary.contactCounters = CampaignContactCounters(
            pending=values["pending"],
            dispatched=values["dispatched"],
            completed=values["completed"],
            failed=values["failed"],
            skipped=values["skipped"],
            predialFailed=0,
        )
        summary.callMetrics = CampaignCallMetrics(
            dialed=values["dialed"], connected=values["connected"]
        )
    return summary


async def contacts_page(
    session: AsyncSession, *, campaign_id: uuid.UUID, query: ContactListQuery
) -> CampaignContactPaginatedResponse:
    wanted = [s.value for s in query.status] if query.status else None
    order = (
        f"array_position(ARRAY[{_STATUS_ORDER}], s.status), k.position"
        if query.sortBy == "status"
        else "k.position"
    )
    base = f"""
        FROM calls k CROSS JOIN LATERAL (SELECT {_CONTACT_STATUS_SQL} AS status) s
        WHERE k.campaign_id = :campaign
          AND (CAST(:wanted AS text[]) IS NULL OR s.status = ANY(CAST(:wanted AS text[])))
    """
    params: dict[str, Any] = {"campaign": campaign_id, "wanted": wanted}
    total = (await session.execute(text(f"SELECT count(*) {base}"), params)).scalar_one()
    rows = await session.execute(
        text(
            f"""
            SELECT k.id, k.customer, k.ended_reason, k.started_at, s.status {base}
            ORDER BY {order} LIMIT :limit OFFSET :offset
            """
        ),
        {**params, "limit": query.limit, "offset": (query.page - 1) * query.limit},
    )
    return CampaignContactPaginatedResponse(
        results=[_contact(row) for row in rows],
        metadata=PaginationMeta.for_page(
            total=int(total), page=query.page, limit=query.limit, sort_order="ASC"
        ),
    )


def _contact(row: Any) -> CampaignContactWithOutcome:
    dispatched: datetime | None = row.started_at
    return CampaignContactWithOutcome(
        id=str(row.id),
        number=row.customer.get("number") or row.customer.get("sipUri") or "",
        status=ContactStatus(row.status),
        name=row.customer.get("name"),
        callId=str(row.id) if dispatched is not None else None,
        dispatchedAt=dispatched,
        endedReason=row.ended_reason,
    )
