"""Small helpers shared by the API tests: creating campaigns, checking Vapi's error body,
and reading the database directly (row counts, call rows) to check what was really written."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import OrgKey, campaign_body


async def create(
    client: httpx.AsyncClient, org: OrgKey, body: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    """POST a campaign (campaign_body(2) unless a body is given) and return the 201 body."""
    payload = body if body is not None else campaign_body(2, **overrides)
    response = await client.post("/campaigns", json=payload, headers=org.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def message_text(body: dict[str, Any]) -> str:
    message = body["message"]
    return " | ".join(message) if isinstance(message, list) else str(message)


def assert_error(response: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    """The response is Vapi's error body for `status` and its message contains every needle."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"message", "error", "statusCode"}, body
    assert body["statusCode"] == status
    assert body["error"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str | list)
    text_ = message_text(body)
    for needle in needles:
        assert needle in text_, f"{needle!r} not in {text_!r}"
    return body


def assert_validation_error(response: httpx.Response, *needles: str) -> list[str]:
    """A 400 from request validation: the message is a list of sentences."""
    body = assert_error(response, 400, *needles)
    assert isinstance(body["message"], list), body
    assert body["message"], body
    return list(body["message"])


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM calls),"
                    " (SELECT count(*) FROM call_events), (SELECT count(*) FROM campaign_events)"
                )
            )
        ).one()
    counts = {"campaigns": row[0], "calls": row[1], "call_events": row[2]}
    # A campaign's history is written with it; nothing else may leave history behind.
    assert row[3] >= row[0]
    return counts


async def execute(engine: AsyncEngine, sql: str, **params: Any) -> None:
    """Run one statement in its own committed transaction (to simulate the dispatcher)."""
    async with engine.begin() as conn:
        await conn.execute(text(sql), params)


async def fetch(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


async def call_rows(engine: AsyncEngine, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's call rows in dial order, straight from the table."""
    return await fetch(
        engine,
        "SELECT id::text AS id, position, dial_plan_index, phone_number_id, customer, status,"
        " ended_reason FROM calls WHERE campaign_id = :c ORDER BY position",
        c=campaign_id,
    )


async def start_campaign(
    engine: AsyncEngine, campaign_id: str, *, call_statuses: dict[int, str] | None = None
) -> None:
    """Simulate the dispatcher: mark the campaign in-progress and move calls (by position)."""
    await execute(
        engine, "UPDATE campaigns SET status = 'in-progress' WHERE id = :c", c=campaign_id
    )
    for position, status in (call_statuses or {}).items():
        await execute(
            engine,
            "UPDATE calls SET status = :s WHERE campaign_id = :c AND position = :p",
            s=status,
            c=campaign_id,
            p=position,
        )


def counters(campaign: dict[str, Any]) -> dict[str, int]:
    return {
        "scheduled": campaign["callsCounterScheduled"],
        "queued": campaign["callsCounterQueued"],
        "inProgress": campaign["callsCounterInProgress"],
        "ended": campaign["callsCounterEnded"],
        "endedVoicemail": campaign["callsCounterEndedVoicemail"],
    }


def assert_counters_add_up(campaign: dict[str, Any]) -> None:
    c = counters(campaign)
    assert all(type(v) is int for v in c.values()), c
    assert c["scheduled"] + c["queued"] + c["inProgress"] + c["ended"] == len(campaign["calls"])
    assert c["endedVoicemail"] <= c["ended"]
