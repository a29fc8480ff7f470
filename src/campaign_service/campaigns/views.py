"""Campaign response bodies, assembled mostly by PostgreSQL.

A campaign of 10,000 customers answers with ~5 MB of JSON. Building 20,000 Pydantic objects
for it costs most of a second, so the per-call part (`calls`, `customers`, the counters) is
aggregated into JSON text by the database in one pass and spliced, unparsed, into a body whose
small top level is built here. The shape is the `Campaign` model's (the API's documented
schema); the contract tests check real bodies against it and against Vapi's JSON Schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import VOICEMAIL
from campaign_service.calls.schemas import CallDetails
from campaign_service.db import models
from campaign_service.timeutil import iso_z


def _ts(column: str) -> str:
    """SQL rendering a timestamptz as iso_z does (UTC, milliseconds, Z); colons escaped for
    SQLAlchemy's text()."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24\\:MI\\:SS.MS"Z"')"""


CALL_JSON = f"""json_strip_nulls(json_build_object(
    'id', k.id, 'campaignId', k.campaign_id, 'position', k.position, 'customer', k.customer,
    'phoneNumberId', k.phone_number_id, 'status', k.status, 'endedReason', k.ended_reason,
    'startedAt', {_ts("k.started_at")}, 'endedAt', {_ts("k.ended_at")},
    'createdAt', {_ts("k.created_at")}, 'updatedAt', {_ts("k.updated_at")}))"""

_CALLS = text(
    f"""
    SELECT k.campaign_id,
           json_object_agg(k.id, {CALL_JSON} ORDER BY k.position)::text AS calls,
           count(*) FILTER (WHERE k.status = 'scheduled') AS scheduled,
           count(*) FILTER (WHERE k.status = 'queued') AS queued,
           count(*) FILTER (WHERE k.status IN ('ringing', 'in-progress', 'forwarding'))
               AS in_progress,
           count(*) FILTER (WHERE k.status = 'ended') AS ended,
           count(*) FILTER (WHERE k.status = 'ended' AND k.ended_reason = :voicemail)
               AS voicemail
    FROM calls k WHERE k.campaign_id = ANY(:ids) GROUP BY k.campaign_id
    """
)

_AUDIENCE = text(
    """
    SELECT campaign_id, dial_plan_index, json_agg(customer ORDER BY position)::text AS customers
    FROM calls WHERE campaign_id = ANY(:ids) GROUP BY campaign_id, dial_plan_index
    """
)

EMPTY_LIST = orjson.Fragment(b"[]")


def call_details(row: Any) -> CallDetails:
    """One call record as a model (for the paginated calls endpoints)."""
    return CallDetails(
        id=str(row.id),
        campaignId=str(row.campaign_id),
        position=row.position,
        customer=row.customer,
        phoneNumberId=row.phone_number_id,
        status=row.status,
        endedReason=row.ended_reason,
        startedAt=row.started_at,
        endedAt=row.ended_at,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


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
    if campaign.has_schedule_plan and campaign.earliest_at is not None:
        body["schedulePlan"] = {"earliestAt": iso_z(campaign.earliest_at)}
        if campaign.latest_at is not None:
            body["schedulePlan"]["latestAt"] = iso_z(campaign.latest_at)
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
            **{key: extra.get(key) for key in _EXTRA_KEYS},
        }
    )
    return _without_nulls(body)


_EXTRA_KEYS = ("assistantOverrides", "squadOverrides", "server", "serverMessages", "predialPlan")


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """Absent optional fields are omitted, as Vapi does. (Values inside the opaque objects,
    such as assistantOverrides, are echoed exactly as given.)"""
    return {k: v for k, v in value.items() if v is not None}
