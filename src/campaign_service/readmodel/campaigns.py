"""Campaign bodies (v1 `Campaign`) and summaries (v2 `CampaignSummary`).

A campaign of 10,000 customers answers with ~5 MB of JSON. Building 20,000 Pydantic objects
for it costs most of a second, so the per-call part (`calls`, `customers`, the counters) is
aggregated into JSON text by the database in one pass and spliced, unparsed, into a body whose
small top level is built here. The shapes are the route's `response_model`; the contract tests
check real bodies against it and against Vapi's JSON Schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from campaign_service.calls.ended_reasons import VOICEMAIL
from campaign_service.calls.status import COUNTED_IN_PROGRESS, CallStatus, in_order
from campaign_service.campaigns.schemas_control import CallingWindow, RetryPlan
from campaign_service.campaigns.state import (
    CampaignStatus,
    v2_status,
)
from campaign_service.db import models
from campaign_service.db import predicates as p
from campaign_service.orgs.repository import dispatch_blocked_reasons
from campaign_service.timeutil import iso_z

EXTRA_CONFIG_FIELDS = (
    "assistantOverrides",
    "squadOverrides",
    "server",
    "serverMessages",
    "predialPlan",
)


# A call's entry in the `calls` map (`"<id>":{...}`), as stored (models.Call.map_entry).
CALL_ENTRY = "k.map_entry"


def call_map(filter_sql: str = "") -> str:
    """SQL aggregating the calls `k` into the `calls` object's text (NULL: no calls)."""
    return (
        f"'{{' || string_agg({CALL_ENTRY}, ',' ORDER BY k.position, k.attempt_number)"
        f"{filter_sql} || '}}'"
    )


def call_entries(where: str) -> str:
    """SQL: the map entries of the calls `k` matching `where`, in position order, joined by
    commas (NULL: none). The calls are read in the order of the (campaign, position,
    attempt) index and aggregated as read, so nothing is sorted (an aggregate's own ORDER BY
    sorts its input: a 10,000-call map spilled to disk)."""
    return (
        "(SELECT string_agg(r.map_entry, ',') FROM (SELECT k.map_entry FROM calls k"
        f" WHERE {where} ORDER BY k.position, k.attempt_number) r)"
    )


def v1_counters(voicemail: str = ":voicemail") -> str:
    """SQL: the v1 counters of the calls `k`, as columns scheduled, queued, in_progress,
    ended and voicemail (`voicemail` the SQL of the voicemail ended reason)."""
    return f"""
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.SCHEDULED)}) AS scheduled,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.QUEUED)}) AS queued,
           count(*) FILTER (WHERE {p.status_in("k.status", in_order(COUNTED_IN_PROGRESS))})
               AS in_progress,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}) AS ended,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}
                            AND k.ended_reason = {voicemail}) AS voicemail"""


_CALLS = text(
    f"""
    SELECT k.campaign_id,
           {call_map()} AS calls, {v1_counters()}
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
    blocked = await dispatch_blocked_reasons(session, list({c.org_id for c in campaigns}))
    return [
        orjson.Fragment(orjson.dumps(_body(c, calls.get(c.id), audience, blocked)))
        for c in campaigns
    ]


async def campaign_body(session: AsyncSession, campaign: models.Campaign) -> orjson.Fragment:
    (body,) = await campaign_bodies(session, [campaign])
    return body


def _schedule(campaign: Any) -> dict[str, str] | None:
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
    blocked: dict[uuid.UUID, str] | None = None,
) -> dict[str, Any]:
    call_map = orjson.Fragment(calls.calls) if calls else orjson.Fragment(b"{}")
    return campaign_document(
        campaign,
        calls,
        call_map,
        lambda index: audience.get((campaign.id, index), EMPTY_LIST),
        (blocked or {}).get(campaign.org_id),
    )


def campaign_document(
    campaign: Any,
    counts: Any,
    calls: orjson.Fragment,
    audience: Callable[[int | None], orjson.Fragment],
    blocked_reason: str | None = None,
) -> dict[str, Any]:
    """The v1 body of a campaign (an ORM object or a row with the same column names), with
    its call map, its audience by dial plan index (None without a dial plan), the counters
    of `counts` (None: no calls), and its org's dispatch block (given, or read with the row
    as `dispatch_blocked_reason`)."""
    blocked_reason = blocked_reason or getattr(campaign, "dispatch_blocked_reason", None)
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
            {"phoneNumberId": number, "customers": audience(i)}
            for i, number in enumerate(campaign.dial_plan_numbers)
        ]
    body["schedulePlan"] = _schedule(campaign)
    if campaign.dial_plan_numbers is None:
        body["customers"] = audience(None)
    body.update(
        {
            "id": str(campaign.id),
            "orgId": str(campaign.org_id),
            "createdAt": iso_z(campaign.created_at),
            "updatedAt": iso_z(campaign.updated_at),
            "calls": calls,
            "callsCounterScheduled": counts.scheduled if counts else 0,
            "callsCounterQueued": counts.queued if counts else 0,
            "callsCounterInProgress": counts.in_progress if counts else 0,
            "callsCounterEndedVoicemail": counts.voicemail if counts else 0,
            "callsCounterEnded": counts.ended if counts else 0,
            "maxConcurrency": campaign.max_concurrency,
            **{key: extra.get(key) for key in EXTRA_CONFIG_FIELDS},
            **control_fields(campaign),
            "feasibility": campaign.feasibility,
            "dispatchBlockedReason": None
            if campaign.status == CampaignStatus.ENDED
            else blocked_reason,
        }
    )
    return _without_nulls(body)


def control_fields(campaign: Any) -> dict[str, Any]:
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


# (column of campaign_counts, key in the response) of each contact counter, in order.
_CONTACT_COUNTERS = [
    ("pending", "pending"),
    ("dispatched", "dispatched"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("skipped", "skipped"),
    ("predial_failed", "predialFailed"),
]
# A campaign's counters are the sums of its rows in campaign_counts, which the triggers on
# `calls` append to in the transaction of each write (migration 0702): a read touches a
# handful of rows per campaign, never its calls.
_SUMS = {
    column: f"coalesce(sum(x.{column}), 0)"
    for column in (*(c for c, _ in _CONTACT_COUNTERS), "dialed", "connected")
}

_COUNTERS = text(
    "SELECT x.campaign_id, "
    + ", ".join(f"{sql} AS {column}" for column, sql in _SUMS.items())
    + " FROM campaign_counts x WHERE x.campaign_id = ANY(:ids) GROUP BY x.campaign_id"
)

# The counters as the JSON text added to a summary: each counter's column after this text.
_COUNTERS_JSON = [
    *[
        (f'''{',"contactCounters":{' if i == 0 else ","}"{key}":''', column)
        for i, (column, key) in enumerate(_CONTACT_COUNTERS)
    ],
    ('},"callMetrics":{"dialed":', "dialed"),
    (',"connected":', "connected"),
]


def counters_json_sql(campaign: str) -> str:
    """A correlated subquery: the counters of the campaign `campaign` (a row with its `id`)
    as the JSON text to add to its summary (`,"contactCounters":{...},"callMetrics":{...}`),
    summed from its rows in campaign_counts."""
    counters = " || ".join(f"'{before}' || {_SUMS[column]}" for before, column in _COUNTERS_JSON)
    return f"(SELECT {counters} || '}}' FROM campaign_counts x WHERE x.campaign_id = {campaign}.id)"


async def summaries(
    session: AsyncSession | AsyncConnection, campaigns: Sequence[Any], *, counters: bool
) -> list[dict[str, Any]]:
    """The v2 summary of each campaign (ORM objects or rows with the campaign's column
    names), as JSON-ready dicts in CampaignSummary's shape, without building models."""
    by_campaign: dict[uuid.UUID, Any] = {}
    if counters and campaigns:
        result = await session.execute(_COUNTERS, {"ids": [c.id for c in campaigns]})
        by_campaign = {row.campaign_id: row for row in result}
    return [_summary(c, by_campaign.get(c.id), counters) for c in campaigns]


def _stored(model: type[BaseModel], value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored extension object as its response model renders it."""
    if value is None:
        return None
    return model.model_validate(value).model_dump(mode="json", exclude_none=True)


def _summary(campaign: Any, row: Any, counters: bool) -> dict[str, Any]:
    extra = campaign.extra_config or {}
    control = control_fields(campaign)
    summary: dict[str, Any] = {
        "status": v2_status(campaign.status, campaign.ended_reason),
        "endedReason": campaign.ended_reason,
        "name": campaign.name,
        "id": str(campaign.id),
        "orgId": str(campaign.org_id),
        "createdAt": iso_z(campaign.created_at),
        "updatedAt": iso_z(campaign.updated_at),
        "assistantId": campaign.assistant_id,
        "squadId": campaign.squad_id,
        "phoneNumberId": campaign.phone_number_id,
        # As stored, without the input rules (a past earliestAt is fine to show).
        "schedulePlan": _schedule(campaign),
        "maxConcurrency": campaign.max_concurrency,
        **{key: extra.get(key) for key in EXTRA_CONFIG_FIELDS},
    }
    if counters:
        values = {k: int(getattr(row, k, 0) or 0) for k in models.COUNT_COLUMNS}
        summary["contactCounters"] = {
            "pending": values["pending"],
            "dispatched": values["dispatched"],
            "completed": values["completed"],
            "failed": values["failed"],
            "skipped": values["skipped"],
            "predialFailed": values["predial_failed"],
        }
        summary["callMetrics"] = {"dialed": values["dialed"], "connected": values["connected"]}
    summary.update(
        {
            "callingWindow": _stored(CallingWindow, control["callingWindow"]),
            "retryPlan": _stored(RetryPlan, control["retryPlan"]),
            "pausedAt": control["pausedAt"],
            "pausedBy": control["pausedBy"],
            "pauseReason": control["pauseReason"],
            "resumedAt": control["resumedAt"],
        }
    )
    return _without_nulls(summary)


# ---- v2 summaries rendered by the database (lists) ----


EXTRA_INLINE_BYTES = 256 * 1024
"""An opaque object (assistantOverrides...) stored larger than this is sent in chunks."""
# Its text's size (pg_column_size would be the compressed size: a repetitive value compresses
# a hundredfold on disk but not in a response).
EXTRA_TEXT_BYTES_SQL = "octet_length(campaigns.extra_config::text)"
