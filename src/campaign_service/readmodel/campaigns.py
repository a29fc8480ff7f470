"""Campaign bodies (v1 `Campaign`) and summaries (v2 `CampaignSummary`).

A campaign of 10,000 customers answers with ~5 MB of JSON. Building 20,000 Pydantic objects
for it costs most of a second, so the per-call part (`calls`, `customers`, the counters) is
aggregated into JSON text by the database in one pass and spliced, unparsed, into a body whose
small top level is built here. The shapes are the route's `response_model`; the contract tests
check real bodies against it and against Vapi's JSON Schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import VOICEMAIL
from campaign_service.calls.status import COUNTED_IN_PROGRESS, TALKING, CallStatus, in_order
from campaign_service.campaigns.schemas import SchedulePlan
from campaign_service.campaigns.schemas_v2 import (
    CampaignCallMetrics,
    CampaignContactCounters,
    CampaignSummary,
)
from campaign_service.campaigns.state import CampaignStatus, v2_status
from campaign_service.db import models
from campaign_service.db import predicates as p
from campaign_service.readmodel.contacts import CONTACT_STATUS_SQL, EARLIER_ATTEMPT, LATEST_ATTEMPT
from campaign_service.timeutil import iso_z

EXTRA_CONFIG_FIELDS = (
    "assistantOverrides",
    "squadOverrides",
    "server",
    "serverMessages",
    "predialPlan",
)


def ts(column: str) -> str:
    """SQL rendering a timestamptz as iso_z does (UTC, milliseconds, Z); colons escaped for
    SQLAlchemy's text()."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24\\:MI\\:SS.MS"Z"')"""


CALL_JSON = f"""json_strip_nulls(json_build_object(
    'id', k.id, 'campaignId', k.campaign_id, 'position', k.position, 'customer', k.customer,
    'phoneNumberId', k.phone_number_id, 'status', k.status, 'endedReason', k.ended_reason,
    'skipReason', k.skip_reason, 'attempt', k.attempt_number, 'contactId', k.contact_id,
    'nextAttemptAt', CASE WHEN {p.waiting("k")} THEN {ts("k.next_attempt_at")} END,
    'startedAt', {ts("k.started_at")}, 'endedAt', {ts("k.ended_at")},
    'createdAt', {ts("k.created_at")}, 'updatedAt', {ts("k.updated_at")}))"""

_CALLS = text(
    f"""
    SELECT k.campaign_id,
           json_object_agg(k.id, {CALL_JSON} ORDER BY k.position)::text AS calls,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.SCHEDULED)}) AS scheduled,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.QUEUED)}) AS queued,
           count(*) FILTER (WHERE {p.status_in("k.status", in_order(COUNTED_IN_PROGRESS))})
               AS in_progress,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}) AS ended,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}
                            AND k.ended_reason = :voicemail) AS voicemail
    FROM calls k WHERE k.campaign_id = ANY(:ids) GROUP BY k.campaign_id
    """
)

_AUDIENCE = text(
    """
    SELECT campaign_id, dial_plan_index, json_agg(customer ORDER BY position)::text AS customers
    FROM calls WHERE campaign_id = ANY(:ids) AND attempt_number = 1
    GROUP BY campaign_id, dial_plan_index
    """
)

EMPTY_LIST = orjson.Fragment(b"[]")


async def campaign_bodies(
    session: AsyncSession, campaigns: Sequence[models.Campaign]
) -> list[orjson.Fragment]:
    """The JSON body of each campaign, in order, with two aggregate queries for all of them."""
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    calls = {
        r.campaign_id: r
        for r in await session.execute(_CALLS, {"ids": ids, "voicemail": VOICEMAIL})
    }
    audience: dict[tuple[uuid.UUID, int | None], orjson.Fragment] = {
        (r.campaign_id, r.dial_plan_index): orjson.Fragment(r.customers)
        for r in await session.execute(_AUDIENCE, {"ids": ids})
    }
    return [orjson.Fragment(orjson.dumps(_body(c, calls.get(c.id), audience))) for c in campaigns]


async def campaign_body(session: AsyncSession, campaign: models.Campaign) -> orjson.Fragment:
    (body,) = await campaign_bodies(session, [campaign])
    return body


def _schedule(campaign: models.Campaign) -> dict[str, str] | None:
    if not campaign.has_schedule_plan or campaign.earliest_at is None:
        return None
    plan = {"earliestAt": iso_z(campaign.earliest_at)}
    if campaign.latest_at is not None:
        plan["latestAt"] = iso_z(campaign.latest_at)
    return plan


def _body(
    campaign: models.Campaign,
    calls: Any,
    audience: dict[tuple[uuid.UUID, int | None], orjson.Fragment],
) -> dict[str, Any]:
    extra = campaign.extra_config or {}
    body: dict[str, Any] = {
        "status": campaign.status,
        "endedReason": campaign.ended_reason,
        "name": campaign.name,
        "assistantId": campaign.assistant_id,
        "workflowId": campaign.workflow_id,
        "squadId": campaign.squad_id,
        "phoneNumberId": campaign.phone_number_id,
    }
    if campaign.dial_plan_numbers is not None:
        body["dialPlan"] = [
            {"phoneNumberId": number, "customers": audience.get((campaign.id, i), EMPTY_LIST)}
            for i, number in enumerate(campaign.dial_plan_numbers)
        ]
    body["schedulePlan"] = _schedule(campaign)
    if campaign.dial_plan_numbers is None:
        body["customers"] = audience.get((campaign.id, None), EMPTY_LIST)
    body.update(
        {
            "id": str(campaign.id),
            "orgId": str(campaign.org_id),
            "createdAt": iso_z(campaign.created_at),
            "updatedAt": iso_z(campaign.updated_at),
            "calls": orjson.Fragment(calls.calls) if calls else orjson.Fragment(b"{}"),
            "callsCounterScheduled": calls.scheduled if calls else 0,
            "callsCounterQueued": calls.queued if calls else 0,
            "callsCounterInProgress": calls.in_progress if calls else 0,
            "callsCounterEndedVoicemail": calls.voicemail if calls else 0,
            "callsCounterEnded": calls.ended if calls else 0,
            "maxConcurrency": campaign.max_concurrency,
            **{key: extra.get(key) for key in EXTRA_CONFIG_FIELDS},
            **control_fields(campaign),
            "feasibility": campaign.feasibility,
        }
    )
    return _without_nulls(body)


def control_fields(campaign: models.Campaign) -> dict[str, Any]:
    """The campaign-control extensions: calling hours, retry plan, and the pause (shown
    while the campaign runs; an ended campaign has nothing left to pause)."""
    paused = campaign.paused_at is not None and campaign.status == CampaignStatus.IN_PROGRESS
    return {
        "callingWindow": campaign.calling_window,
        "retryPlan": campaign.retry_plan,
        "pausedAt": iso_z(campaign.paused_at) if paused and campaign.paused_at else None,
        "pausedBy": campaign.paused_by if paused else None,
        "pauseReason": campaign.pause_reason if paused else None,
        "resumedAt": iso_z(campaign.resumed_at) if campaign.resumed_at else None,
    }


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """Absent optional fields are omitted, as Vapi does. (Values inside the opaque objects,
    such as assistantOverrides, are echoed exactly as given.)"""
    return {k: v for k, v in value.items() if v is not None}


# ---- v2 summaries ----


def _connected(alias: str) -> str:
    """A placed call a person picked up (voicemail excluded)."""
    return f"""({alias}.ended_reason IS DISTINCT FROM :voicemail
        AND ({p.status_in(f"{alias}.status", in_order(TALKING))} OR EXISTS (
            SELECT 1 FROM call_events e
            WHERE e.call_id = {alias}.id AND {p.status_in("e.to_status", in_order(TALKING))})))"""


# Contacts are counted once, by their latest attempt; a contact was dialed (or connected) if
# any of its attempts was.

_COUNTERS = text(
    f"""
    SELECT k.campaign_id,
           count(*) FILTER (WHERE s.status = 'contact.pending') AS pending,
           count(*) FILTER (WHERE s.status = 'contact.dispatched') AS dispatched,
           count(*) FILTER (WHERE s.status = 'contact.completed') AS completed,
           count(*) FILTER (WHERE s.status = 'contact.failed') AS failed,
           count(*) FILTER (WHERE s.status = 'contact.skipped') AS skipped,
           count(*) FILTER (WHERE s.status = 'contact.predial-failed') AS predial_failed,
           count(*) FILTER (WHERE k.started_at IS NOT NULL OR k.attempt_number > 1 AND EXISTS (
               SELECT 1 FROM calls a WHERE {EARLIER_ATTEMPT} AND a.started_at IS NOT NULL))
               AS dialed,
           count(*) FILTER (WHERE {_connected("k")} OR k.attempt_number > 1 AND EXISTS (
               SELECT 1 FROM calls a WHERE {EARLIER_ATTEMPT} AND {_connected("a")}))
               AS connected
    FROM calls k JOIN campaigns c ON c.id = k.campaign_id
    CROSS JOIN LATERAL (SELECT {CONTACT_STATUS_SQL} AS status) s
    WHERE k.campaign_id = ANY(:ids) AND {LATEST_ATTEMPT} GROUP BY k.campaign_id
    """
)

_COUNTER_KEYS = (
    "pending",
    "dispatched",
    "completed",
    "failed",
    "skipped",
    "predial_failed",
    "dialed",
    "connected",
)


async def summaries(
    session: AsyncSession, campaigns: Sequence[models.Campaign], *, counters: bool
) -> list[CampaignSummary]:
    by_campaign: dict[uuid.UUID, Any] = {}
    if counters and campaigns:
        result = await session.execute(
            _COUNTERS, {"ids": [c.id for c in campaigns], "voicemail": VOICEMAIL}
        )
        by_campaign = {row.campaign_id: row for row in result}
    return [_summary(c, by_campaign.get(c.id), counters) for c in campaigns]


def _summary(campaign: models.Campaign, row: Any, counters: bool) -> CampaignSummary:
    extra = campaign.extra_config or {}
    summary = CampaignSummary(
        status=v2_status(campaign.status, campaign.ended_reason),
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
        **{key: extra.get(key) for key in EXTRA_CONFIG_FIELDS},
        **control_fields(campaign),
    )
    if campaign.has_schedule_plan and campaign.earliest_at is not None:
        # Built as stored, without the input rules (a past earliestAt is fine to show).
        summary.schedulePlan = SchedulePlan.model_construct(
            earliestAt=campaign.earliest_at, latestAt=campaign.latest_at
        )
    if counters:
        values = {k: int(getattr(row, k, 0) or 0) for k in _COUNTER_KEYS}
        summary.contactCounters = CampaignContactCounters(
            pending=values["pending"],
            dispatched=values["dispatched"],
            completed=values["completed"],
            failed=values["failed"],
            skipped=values["skipped"],
            predialFailed=values["predial_failed"],
        )
        summary.callMetrics = CampaignCallMetrics(
            dialed=values["dialed"], connected=values["connected"]
        )
    return summary
