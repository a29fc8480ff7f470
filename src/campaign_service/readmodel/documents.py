"""The read path of campaign bodies: one round trip per authenticated read.

A GET joins the API key check into the statement that builds the body, on a connection in
autocommit (no BEGIN/COMMIT around a single read) and without ORM objects: rows become JSON
bytes directly. A list reads its page (with the key check and the total) in one statement and
the call aggregates of the whole page in a second one.

Memory is bounded whatever tenants stored: a body is sent as pieces (the small top level and
the call map and audience as the database rendered them, never joined into one more copy), and
a list whose campaigns together exceed `BATCH_BYTES` (estimated from stored sizes) is read and
streamed a few campaigns at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_service.calls.ended_reasons import VOICEMAIL
from campaign_service.calls.status import COUNTED_IN_PROGRESS, CallStatus, in_order
from campaign_service.db import models
from campaign_service.db import predicates as p
from campaign_service.readmodel.campaigns import CALL_JSON, EMPTY_LIST, campaign_document

BATCH_BYTES = 4 * 1024 * 1024
"""A list reads the bodies of at most this many (estimated) bytes of campaigns at once."""

# Each call's JSON object costs about this much beyond its customer's stored size.
_PER_CALL_BYTES = 420

_AGGREGATES = f"""
    SELECT convert_to(json_object_agg(k.id, {CALL_JSON} ORDER BY k.position)::text, 'UTF8')
               AS calls,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.SCHEDULED)}) AS scheduled,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.QUEUED)}) AS queued,
           count(*) FILTER (WHERE {p.status_in("k.status", in_order(COUNTED_IN_PROGRESS))})
               AS in_progress,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}) AS ended,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}
                            AND k.ended_reason = :voicemail) AS voicemail
    FROM calls k WHERE k.campaign_id = c.id
"""

_AUDIENCE = """
    SELECT array_agg(g.dial_plan_index ORDER BY g.dial_plan_index NULLS FIRST) AS plan_indexes,
           array_agg(g.customers ORDER BY g.dial_plan_index NULLS FIRST) AS audiences
    FROM (SELECT dial_plan_index,
                 convert_to(json_agg(customer ORDER BY position)::text, 'UTF8') AS customers
          FROM calls WHERE campaign_id = c.id AND attempt_number = 1
          GROUP BY dial_plan_index) g
"""

_ONE = text(
    f"""
    WITH c AS (
        SELECT campaigns.* FROM campaigns JOIN api_keys key ON key.org_id = campaigns.org_id
        WHERE key.key_hash = :key_hash AND key.revoked_at IS NULL
          AND campaigns.id = :id AND campaigns.archived_at IS NULL
    )
    SELECT (SELECT count(*) FROM api_keys
            WHERE key_hash = :key_hash AND revoked_at IS NULL) AS authorized,
           c.*, a.*, au.*
    FROM (SELECT 1) one
    LEFT JOIN c ON true
    LEFT JOIN LATERAL ({_AGGREGATES}) a ON c.id IS NOT NULL
    LEFT JOIN LATERAL ({_AUDIENCE}) au ON c.id IS NOT NULL
    """
)

_MANY = text(
    f"""
    SELECT c.id, a.*, au.*
    FROM unnest(CAST(:ids AS uuid[])) AS c(id)
    LEFT JOIN LATERAL ({_AGGREGATES}) a ON true
    LEFT JOIN LATERAL ({_AUDIENCE}) au ON true
    """
)

_AUTHORIZED = text(
    "SELECT key.org_id FROM api_keys key WHERE key.key_hash = :key_hash AND key.revoked_at IS NULL"
)


def reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine as the read path uses it: autocommit, so a lone SELECT is one round trip."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


# ---- rendering ----

_MARK = b"\x01"  # orjson escapes every control character, so this byte marks a splice point


def pieces(campaign: Any, aggregates: Any) -> list[bytes]:
    """The campaign's v1 body as pieces to send in order: the top level rendered here, with
    the call map and audiences the database rendered spliced in unchanged."""
    big: list[bytes] = []
    audiences: dict[int | None, orjson.Fragment] = {}
    if aggregates is not None and aggregates.audiences:
        for index, customers in zip(aggregates.plan_indexes, aggregates.audiences, strict=True):
            audiences[index] = _spliced(customers, big)
    calls = (
        _spliced(aggregates.calls, big)
        if aggregates is not None and aggregates.calls is not None
        else orjson.Fragment(b"{}")
    )

    def audience(index: int | None) -> orjson.Fragment:
        return audiences.get(index, EMPTY_LIST)

    top = orjson.dumps(campaign_document(campaign, aggregates, calls, audience))
    parts = top.split(_MARK)
    out = [parts[0]]
    for value, rest in zip(big, parts[1:], strict=True):
        out += (value, rest)
    return out


def _spliced(value: bytes, big: list[bytes]) -> orjson.Fragment:
    big.append(bytes(value))
    return orjson.Fragment(_MARK)


# ---- GET one campaign ----


@dataclass
class Found:
    body: list[bytes] | None  # None: no live campaign of this org has that id


async def campaign_pieces(
    engine: AsyncEngine, *, key_hash: str, campaign_id: uuid.UUID
) -> Found | None:
    """The body of a live campaign of the key's org; None when the key is not active."""
    async with reads(engine).connect() as conn:
        row = (
            await conn.execute(
                _ONE, {"key_hash": key_hash, "id": campaign_id, "voicemail": VOICEMAIL}
            )
        ).one()
    if not row.authorized:
        return None
    if row.id is None:
        return Found(None)
    return Found(pieces(row, row))


# ---- lists ----


@dataclass
class Page:
    campaigns: Sequence[Any]
    total: int
    estimates: list[int]


_COLUMNS = list(models.Campaign.__table__.c)


async def page_of_campaigns(
    conn: AsyncConnection,
    *,
    key_hash: str,
    filters: list[Any],
    offset: int,
    limit: int,
    ascending: bool,
    with_sizes: bool,
) -> Page | None:
    """One page of the key's org's live campaigns (None: the key is not active), the total
    matching, and each body's estimated size when asked. One statement when the page has
    rows; a second only to tell an empty page from an inactive key."""
    c, k = models.Campaign, models.Call
    org = (
        select(models.ApiKey.org_id)
        .where(models.ApiKey.key_hash == key_hash, models.ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    where = [c.org_id == org, c.archived_at.is_(None), *filters]
    total = select(func.count()).select_from(c).where(*where).scalar_subquery()
    columns: list[Any] = [*_COLUMNS, total.label("total_matching")]
    if with_sizes:
        size = (
            select(
                func.coalesce(func.sum(func.pg_column_size(k.customer)), 0) * 2
                + func.count() * _PER_CALL_BYTES
            )
            .where(k.campaign_id == c.id)
            .scalar_subquery()
        )
        columns.append(size.label("estimated_bytes"))
    order = (c.created_at.asc(), c.id.asc()) if ascending else (c.created_at.desc(), c.id.desc())
    stmt = select(*columns).where(*where).order_by(*order).offset(offset).limit(limit)
    rows = (await conn.execute(stmt)).all()
    if rows:
        estimates = [int(r.estimated_bytes) for r in rows] if with_sizes else []
        return Page(rows, int(rows[0].total_matching), estimates)
    org_row = (await conn.execute(_AUTHORIZED, {"key_hash": key_hash})).first()
    if org_row is None:
        return None
    matching = await conn.execute(select(func.count()).select_from(c).where(*where))
    return Page([], int(matching.scalar_one()), [])


def batches(page: Page) -> Iterator[list[Any]]:
    """The page's campaigns in runs whose bodies together stay under BATCH_BYTES (a campaign
    bigger than that alone)."""
    run: list[Any] = []
    size = 0
    for campaign, estimate in zip(page.campaigns, page.estimates, strict=True):
        if run and size + estimate > BATCH_BYTES:
            yield run
            run, size = [], 0
        run.append(campaign)
        size += estimate
    if run:
        yield run


async def bodies(conn: AsyncConnection, campaigns: Sequence[Any]) -> list[list[bytes]]:
    """The v1 bodies of these campaigns, in order, by one statement."""
    ids = [c.id for c in campaigns]
    rows = await conn.execute(_MANY, {"ids": ids, "voicemail": VOICEMAIL})
    aggregates = {r.id: r for r in rows}
    return [pieces(c, aggregates.get(c.id)) for c in campaigns]


async def list_body(
    engine: AsyncEngine, conn: AsyncConnection, page: Page, head: bytes, tail: bytes
) -> tuple[list[bytes], AsyncIterator[bytes] | None]:
    """`head` + the page's bodies joined by commas + `tail`: ready when the page fits in one
    batch (read on `conn`), else the first batch and an iterator reading and yielding the
    rest on connections of its own."""
    runs = list(batches(page))
    first = await bodies(conn, runs[0]) if runs else []
    out = [head, *_joined(first, leading=False)]
    if len(runs) <= 1:
        return [*out, tail], None

    async def rest() -> AsyncIterator[bytes]:
        for run in runs[1:]:
            async with reads(engine).connect() as more:
                chunk = await bodies(more, run)
            for part in _joined(chunk, leading=True):
                yield part
            del chunk
        yield tail

    return out, rest()


def _joined(documents: list[list[bytes]], *, leading: bool) -> list[bytes]:
    out: list[bytes] = []
    for i, document in enumerate(documents):
        if i or leading:
            out.append(b",")
        out += document
    return out


_ROW = text(
    """
    SELECT (SELECT count(*) FROM api_keys
            WHERE key_hash = :key_hash AND revoked_at IS NULL) AS authorized, c.*
    FROM (SELECT 1) one
    LEFT JOIN (SELECT campaigns.* FROM campaigns
               JOIN api_keys key ON key.org_id = campaigns.org_id
               WHERE key.key_hash = :key_hash AND key.revoked_at IS NULL
                 AND campaigns.id = :id AND campaigns.archived_at IS NULL) c ON true
    """
)


async def campaign_row(conn: AsyncConnection, *, key_hash: str, campaign_id: uuid.UUID) -> Any:
    """The campaign's row (its `id` None when no live campaign of the key's org has that id);
    None when the key is not active."""
    row = (await conn.execute(_ROW, {"key_hash": key_hash, "id": campaign_id})).one()
    return row if row.authorized else None
