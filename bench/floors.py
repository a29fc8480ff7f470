"""Floors: the least work each measured operation could cost on this machine, built on the
same PostgreSQL and the same schema, so `bench/speed.py` can report the project's figures as
ratios to them (absolute figures on a shared machine move up to 2x between runs).

The HTTP floors are a bare FastAPI app on an asyncpg pool, served by uvicorn like the project:
  GET /health                      bare FastAPI
  GET /one-statement/campaigns/ID  the campaign's body built by one SQL statement that also
                                   checks the API key (no ORM, no second round trip)
  GET /stored/campaigns/ID         a ready document read by one statement with the key check
  GET /stored/campaigns?limit=N    N ready documents in one statement (the v1 list)
  GET /stored/v2/campaign?limit=N  N ready summaries in one statement (the v2 list)
The database floors (`copy_floor`, `lifecycle_floor`, `notify_floor`) are functions that
`bench/speed.py` calls directly.

    python bench/floors.py serve --port P   (DATABASE_URL names the scratch database)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from campaign_service.db.session import async_url

FLOOR_TABLES = """
CREATE TABLE IF NOT EXISTS floor_docs (campaign_id uuid PRIMARY KEY, org_id uuid NOT NULL,
                                       created_at timestamptz NOT NULL, doc text NOT NULL,
                                       summary text NOT NULL);
"""

_TS = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
_ONE_STATEMENT = f"""
WITH org AS (
    SELECT k.org_id FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL
), c AS (
    SELECT c.* FROM campaigns c, org
    WHERE c.id = $2 AND c.org_id = org.org_id AND c.archived_at IS NULL
), agg AS (
    SELECT json_object_agg(k.id, json_strip_nulls(json_build_object(
               'id', k.id, 'campaignId', k.campaign_id, 'position', k.position,
               'customer', k.customer, 'phoneNumberId', k.phone_number_id,
               'status', k.status, 'endedReason', k.ended_reason,
               'startedAt', {_TS.format("k.started_at")}, 'endedAt', {_TS.format("k.ended_at")},
               'createdAt', {_TS.format("k.created_at")},
               'updatedAt', {_TS.format("k.updated_at")})) ORDER BY k.position) AS calls,
           json_agg(k.customer ORDER BY k.position) AS customers,
           count(*) FILTER (WHERE k.status = 'scheduled') AS scheduled,
           count(*) FILTER (WHERE k.status = 'queued') AS queued,
           count(*) FILTER (WHERE k.status IN ('ringing', 'in-progress', 'forwarding')) AS running,
           count(*) FILTER (WHERE k.status = 'ended') AS ended,
           count(*) FILTER (WHERE k.ended_reason = 'voicemail') AS voicemail
    FROM calls k, c WHERE k.campaign_id = c.id
)
SELECT (SELECT count(*) FROM org) AS authorized,
       (SELECT json_strip_nulls(json_build_object(
            'status', c.status, 'endedReason', c.ended_reason, 'name', c.name,
            'assistantId', c.assistant_id, 'phoneNumberId', c.phone_number_id,
            'customers', agg.customers, 'id', c.id, 'orgId', c.org_id,
            'createdAt', {_TS.format("c.created_at")}, 'updatedAt', {_TS.format("c.updated_at")},
            'calls', coalesce(agg.calls, '{{}}'::json),
            'callsCounterScheduled', agg.scheduled, 'callsCounterQueued', agg.queued,
            'callsCounterInProgress', agg.running, 'callsCounterEndedVoicemail', agg.voicemail,
            'callsCounterEnded', agg.ended, 'maxConcurrency', c.max_concurrency))::text
        FROM c, agg) AS body
"""

_STORED = """
SELECT (SELECT count(*) FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL),
       (SELECT d.doc FROM floor_docs d JOIN api_keys k ON k.org_id = d.org_id
        WHERE d.campaign_id = $2 AND k.key_hash = $1 AND k.revoked_at IS NULL)
"""

_STORED_PAGE = """
WITH org AS (SELECT org_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
page AS (SELECT d.{column} AS doc FROM floor_docs d, org WHERE d.org_id = org.org_id
         ORDER BY d.created_at DESC LIMIT $2)
SELECT (SELECT count(*) FROM org), (SELECT count(*) FROM floor_docs d, org
                                    WHERE d.org_id = org.org_id),
       '[' || coalesce((SELECT string_agg(doc, ',') FROM page), '') || ']'
"""


def _hash(request: Request) -> str:
    key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return hashlib.sha256(key.encode()).hexdigest()


def _unauthorized() -> Response:
    return Response(
        b'{"message":"Invalid Key","statusCode":401}', 401, media_type="application/json"
    )


def floor_app(database_url: str) -> FastAPI:
    dsn = async_url(database_url).set(drivername="postgresql").render_as_string(False)
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool["p"] = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        yield
        await pool["p"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/one-statement/campaigns/{campaign_id}")
    async def one_statement(campaign_id: uuid.UUID, request: Request) -> Response:
        row = await pool["p"].fetchrow(_ONE_STATEMENT, _hash(request), campaign_id)
        if not row["authorized"]:
            return _unauthorized()
        return Response(row["body"].encode(), media_type="application/json")

    @app.get("/stored/campaigns/{campaign_id}")
    async def stored(campaign_id: uuid.UUID, request: Request) -> Response:
        authorized, doc = await pool["p"].fetchrow(_STORED, _hash(request), campaign_id)
        if not authorized:
            return _unauthorized()
        return Response(doc.encode(), media_type="application/json")

    async def page(request: Request, column: str) -> Response:
        limit = int(request.query_params.get("limit", 100))
        sql = _STORED_PAGE.format(column=column)
        authorized, total, results = await pool["p"].fetchrow(sql, _hash(request), limit)
        if not authorized:
            return _unauthorized()
        meta = orjson.dumps({"itemsPerPage": limit, "totalItems": total, "currentPage": 1})
        body = b'{"results":' + results.encode() + b',"metadata":' + meta + b"}"
        return Response(body, media_type="application/json")

    @app.get("/stored/campaigns")
    async def stored_list(request: Request) -> Response:
        return await page(request, "doc")

    @app.get("/stored/v2/campaign")
    async def stored_summaries(request: Request) -> Response:
        return await page(request, "summary")

    return app


async def store_documents(dsn: str, docs: list[tuple[str, str, str, str, str]]) -> None:
    """Keep ready documents (campaign id, org id, createdAt, v1 body, v2 summary) for the
    stored floors: exactly the bodies the project answered."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(FLOOR_TABLES)
        await connection.executemany(
            "INSERT INTO floor_docs VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [
                (uuid.UUID(c), uuid.UUID(o), datetime.fromisoformat(t), d, s)
                for c, o, t, d, s in docs
            ],
        )
    finally:
        await connection.close()


# The triggers that keep campaign_counts (migration 0702). The lifecycle floor, alone in its
# database, writes without them, so the dispatch ratio includes what they cost. (The COPY
# floor keeps them: it shares the project's database, where turning them off would lock
# `calls`; their share of a 10,000-row insert is measured apart, see the README.)
_COUNT_TRIGGERS = ("calls_counts_insert", "calls_counts_update", "calls_counts_delete")


def _triggers(action: str) -> str:
    return "ALTER TABLE calls " + ", ".join(f"{action} TRIGGER {t}" for t in _COUNT_TRIGGERS)


async def copy_floor(dsn: str, org_id: uuid.UUID, n: int) -> float:
    """Seconds to COPY n call rows of a new (empty) campaign into `calls` (the create floor)."""
    now = datetime.now(UTC)
    campaign_id = uuid.uuid4()
    records = [
        (
            uuid.uuid4(),
            campaign_id,
            org_id,
            i,
            "pn_bench",
            orjson.dumps(
                {"number": f"+1415{i:07d}", "name": f"Customer {i}", "externalId": f"crm-{i}"}
            ).decode(),
            "scheduled",
            now,
            now,
        )
        for i in range(n)
    ]
    columns = [
        "id",
        "campaign_id",
        "org_id",
        "position",
        "phone_number_id",
        "customer",
        "status",
        "created_at",
        "updated_at",
    ]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO campaigns (id, org_id, name, status, max_concurrency)"
            " VALUES ($1, $2, 'copy floor', 'scheduled', 10)",
            campaign_id,
            org_id,
        )
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("calls", records=records, columns=columns)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def lifecycle_floor(dsn: str, campaign_id: uuid.UUID, batch: int = 500) -> float:
    """Placements per second of a bare claim loop that also writes each call's whole
    lifecycle (queued, ended, with history rows), set-based, one batch at a time. (Its
    database is its own: the counters' triggers stay off for the whole run.)"""
    connection = await asyncpg.connect(dsn)
    await connection.execute(_triggers("DISABLE"))
    placed, started = 0, time.perf_counter()
    try:
        while True:
            async with connection.transaction():
                ids = await connection.fetch(
                    "UPDATE calls SET lease_owner = 'floor', lease_expires_at = now(),"
                    " attempts = attempts + 1 WHERE id IN (SELECT id FROM calls"
                    " WHERE campaign_id = $1 AND status = 'scheduled' AND lease_expires_at IS NULL"
                    " ORDER BY position LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id",
                    campaign_id,
                    batch,
                )
            if not ids:
                break
            call_ids = [r["id"] for r in ids]
            for status, reason in (("queued", None), ("ended", "customer-ended-call")):
                async with connection.transaction():
                    await connection.execute(
                        "WITH c AS (UPDATE calls SET status = $2, ended_reason = $3,"
                        " lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
                        " WHERE id = ANY($1) RETURNING id, campaign_id)"
                        " INSERT INTO call_events (call_id, campaign_id, from_status, to_status,"
                        " ended_reason, source, created_at)"
                        " SELECT id, campaign_id, 'x', $2, $3, 'floor', now() FROM c",
                        call_ids,
                        status,
                        reason,
                    )
            placed += len(call_ids)
        return placed / (time.perf_counter() - started)
    finally:
        await connection.execute(_triggers("ENABLE"))
        await connection.close()


async def notify_floor(dsn: str, campaign_id: uuid.UUID, rounds: int = 200) -> list[float]:
    """Seconds from a call's end (committed with a NOTIFY) to the next call claimed by a
    listener on another connection: the least a next-dial delay can be."""
    listener, ender = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    woken: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("floor", lambda *_: woken.put_nowait(time.perf_counter()))
    delays: list[float] = []
    try:
        for _ in range(rounds):
            ended = await ender.fetchval(
                "WITH e AS (UPDATE calls SET status = 'ended' WHERE id = (SELECT id FROM calls"
                " WHERE campaign_id = $1 AND status = 'scheduled' ORDER BY position LIMIT 1)"
                " RETURNING id) SELECT e.id FROM e"
                " CROSS JOIN LATERAL (SELECT pg_notify('floor', e.id::text)) AS n",
                campaign_id,
            )
            if ended is None:
                break
            sent = time.perf_counter()
            await woken.get()
            await listener.fetchval(
                "UPDATE calls SET lease_owner = 'floor' WHERE id = (SELECT id FROM calls"
                " WHERE campaign_id = $1 AND status = 'scheduled' AND lease_owner IS NULL"
                " ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
                campaign_id,
            )
            delays.append(time.perf_counter() - sent)
            await listener.execute(
                "UPDATE calls SET lease_owner = NULL WHERE lease_owner = 'floor'"
            )
        return delays
    finally:
        await listener.close()
        await ender.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = floor_app(os.environ["DATABASE_URL"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
