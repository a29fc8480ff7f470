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

import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.calls.ended_reasons import VOICEMAIL
from campaign_service.calls.repository import RenderedCalls
from campaign_service.campaigns.state import USER_END_REASON, CampaignStatus, CampaignStatusV2
from campaign_service.db import models
from campaign_service.db.raw import ReadConnection, read_connection
from campaign_service.readmodel.campaigns import (
    EMPTY_LIST,
    EXTRA_CONFIG_FIELDS,
    EXTRA_INLINE_BYTES,
    EXTRA_TEXT_BYTES_SQL,
    call_entries,
    call_map,
    campaign_document,
    counters_json_sql,
    v1_counters,
)

BATCH_BYTES = 4 * 1024 * 1024
"""A list reads the bodies of at most this many (estimated) bytes of campaigns at once."""

# Each call's JSON object costs about this much beyond its customer's stored size.
_PER_CALL_BYTES = 420
# A campaign's body size estimated from stored sizes: each customer appears twice (in the
# audience and in its call), plus each call's own fields.
_ESTIMATE = f"coalesce(sum(pg_column_size(k.customer)), 0) * 2 + count(*) * {_PER_CALL_BYTES}"

CHUNK_CALLS = 1000
"""A campaign larger than BATCH_BYTES is rendered this many positions at first, then in
chunks of about CHUNK_BYTES (at most CHUNK_MAX_CALLS positions)."""
CHUNK_BYTES = 2 * 1024 * 1024
CHUNK_MAX_CALLS = 10_000

EXTRA_CHUNK_CHARS = 2 * 1024 * 1024

_EXTRA_CHUNK = """
    SELECT convert_to(substring((extra_config -> $2)::text, $3::integer, $4::integer), 'UTF8')
    FROM campaigns WHERE id = $1
"""

# The size of a campaign's opaque objects, and (when too large to inline, else null) the
# names of those present as a JSON array: they are then read in chunks while sent.
_EXTRA_SIZE = EXTRA_TEXT_BYTES_SQL
_LARGE_KEYS_JSON = (
    f"CASE WHEN {_EXTRA_SIZE} > {EXTRA_INLINE_BYTES} THEN (SELECT json_agg(x.key)::text"
    " FROM jsonb_each(campaigns.extra_config) x WHERE x.value <> 'null'::jsonb) END"
)

# A chunk of the call map or of an audience is read as text and encoded here: cheaper than
# PostgreSQL's convert_to, which checks every byte of what it just rendered.
_CALLS_CHUNK = f"""
    SELECT {call_entries("k.campaign_id = $1 AND k.position >= $2 AND k.position < $3")}
"""

# Aggregated as read along the (campaign, position) index, like the call map's chunks.
_AUDIENCE_CHUNK = """
    SELECT string_agg(a.customer, ',')
    FROM (SELECT customer::text AS customer FROM calls
          WHERE campaign_id = $1 AND attempt_number = 1 AND position >= $2 AND position < $3
            AND dial_plan_index IS NOT DISTINCT FROM $4::integer
          ORDER BY position) a
"""

# ---- rendering ----


_MARK = b"\x01"  # orjson escapes every control character, so this byte marks a splice point


@dataclass(frozen=True)
class Deferred:
    """A part of a large campaign's body read only while it is sent, a chunk at a time: its
    call map or its audience (of one dial plan entry), by positions; or one of its large
    opaque objects (`key`, such as assistantOverrides), by characters of its text."""

    campaign_id: uuid.UUID
    calls: bool
    plan_index: int | None = None
    key: str | None = None
    positions: tuple[int, int] | None = None  # the campaign's first and last (None: no calls)


Piece = bytes | Deferred


def pieces(campaign: Any, aggregates: Any) -> list[Piece]:
    """The campaign's v1 body as pieces to send in order: the top level rendered here, with
    the call map and audiences the database rendered spliced in unchanged."""
    before: list[Piece] = []  # the audiences: the top level names them before the call map
    after: list[Piece] = []  # the call map
    audiences: dict[int | None, orjson.Fragment] = {}
    if aggregates is not None and aggregates.audiences:
        plans = zip(aggregates.plan_indexes, aggregates.audiences, strict=True)
        for index, customers in plans:
            audiences[index] = _spliced(customers, before)
    calls = orjson.Fragment(b"{}")
    if aggregates is not None and aggregates.calls is not None:
        calls = _spliced(aggregates.calls, after)

    def audience(index: int | None) -> orjson.Fragment:
        return audiences.get(index, EMPTY_LIST)

    top = orjson.dumps(campaign_document(campaign, aggregates, calls, audience))
    return _interleave(top, before + after)


def _interleave(top: bytes, big: list[Piece]) -> list[Piece]:
    parts = top.split(_MARK)
    out: list[Piece] = [parts[0]]
    for value, rest in zip(big, parts[1:], strict=True):
        out += (value, rest)
    return out


def _spliced(value: bytes, big: list[Piece]) -> orjson.Fragment:
    big.append(bytes(value))
    return orjson.Fragment(_MARK)


async def expand(engine: AsyncEngine, parts: list[Piece]) -> AsyncIterator[bytes]:
    """The pieces as bytes, rendering deferred ones chunk by chunk (each chunk is read,
    sent and dropped before the next). (Reading the next chunk while one is sent was
    slower: the server's one thread both receives and sends the chunks.)"""
    while parts:
        part = parts.pop(0)
        if isinstance(part, bytes):
            yield part
            continue
        if part.key is not None:
            async for chunk in _large_value(engine, part.campaign_id, part.key):
                yield chunk
            continue
        yield b"{" if part.calls else b"["
        first = True
        # The first chunk is CHUNK_CALLS positions; the next ones are sized from the bytes per
        # position measured so far, to about CHUNK_BYTES each (fewer statements for small
        # calls, the same bound for large ones).
        start, high = part.positions or (0, -1)
        span = CHUNK_CALLS
        while start <= high:
            args: list[Any] = [part.campaign_id, start, start + span]
            async with read_connection(engine) as conn:
                if part.calls:
                    chunk = (await conn.fetch_row(_CALLS_CHUNK, *args))[0]
                else:
                    chunk = (await conn.fetch_row(_AUDIENCE_CHUNK, *args, part.plan_index))[0]
            start += span
            if chunk:
                data = chunk.encode()
                del chunk
                if not first:
                    yield b","
                yield data
                first = False
                per_position = max(1, len(data) // max(1, span))
                span = max(1, min(CHUNK_MAX_CALLS, CHUNK_BYTES // per_position))
                del data
        yield b"}" if part.calls else b"]"


async def _large_value(
    engine: AsyncEngine, campaign_id: uuid.UUID, key: str
) -> AsyncIterator[bytes]:
    start = 1
    while True:
        async with read_connection(engine) as conn:
            row = await conn.fetch_row(_EXTRA_CHUNK, campaign_id, key, start, EXTRA_CHUNK_CHARS)
        chunk = row[0] if row is not None else None
        if not chunk:
            return
        yield bytes(chunk)
        del chunk
        start += EXTRA_CHUNK_CHARS


def created_pieces(
    campaign: models.Campaign, calls: RenderedCalls, *, blocked_reason: str | None
) -> list[bytes]:
    """The body of a campaign just created, from the row its insert returned and its calls
    as rendered right after their insert (every call is scheduled; the campaign is not read
    again), with the call map's runs left as they are (never joined into one more copy)."""
    plain = SimpleNamespace(
        **{attr.key: getattr(campaign, attr.key) for attr in _CAMPAIGN_ATTRS},
        dispatch_blocked_reason=blocked_reason,
    )
    aggregates = SimpleNamespace(
        calls=_CALL_MAP,
        scheduled=calls.count,
        queued=0,
        in_progress=0,
        ended=0,
        voicemail=0,
        plan_indexes=calls.plan_indexes,
        audiences=calls.audiences,
    )
    call_map = [b"{"]
    for run in calls.call_runs:
        call_map += (run, b",")
    call_map[-1] = b"}" if calls.call_runs else b"{}"
    out: list[bytes] = []
    for part in pieces(plain, aggregates):
        assert isinstance(part, bytes)  # everything is at hand: nothing is deferred
        if part is _CALL_MAP:
            out += call_map
        else:
            out.append(part)
    return out


# Where the call map goes among a created body's pieces (a control character: orjson escapes
# those, so no piece of the top level is this object).
_CALL_MAP = bytes([2])
# The columns a body is made of (not the deferred stored v2 summary).
_CAMPAIGN_ATTRS = [a for a in sa_inspect(models.Campaign).column_attrs if not a.deferred]


# ---- GET one campaign ----


@dataclass
class Found:
    body: list[Piece] | None  # None: no live campaign of this org has that id


async def campaign_pieces(
    engine: AsyncEngine, *, key_hash: str, campaign_id: uuid.UUID
) -> Found | None:
    """The body of a live campaign of the key's org; None when the key is not active."""
    async with read_connection(engine) as conn:
        return await _campaign(conn, key_hash=key_hash, campaign_id=campaign_id)


async def _campaign(conn: ReadConnection, *, key_hash: str, campaign_id: uuid.UUID) -> Found | None:
    """One statement (_ONE) renders the body whole when it fits BATCH_BYTES; a larger one's
    top level comes with its audience and call map left as markers, read and sent a chunk
    at a time."""
    row = await conn.fetch_row(_ONE, key_hash, campaign_id, BATCH_BYTES)
    if not row["authorized"]:
        return None
    if row["id"] is None:
        return Found(None)
    body: bytes = row["body"].encode()
    parts: list[Piece] = [body]
    if row["deferred"]:
        campaign_id = row["id"]
        positions = None if row["low"] is None else (row["low"], row["high"])
        plans = range(row["plans"]) if row["plans"] is not None else [None]
        deferred: list[Piece] = [
            Deferred(campaign_id, calls=False, plan_index=i, positions=positions) for i in plans
        ]
        parts = _interleave(body, [*deferred, Deferred(campaign_id, True, positions=positions)])
    return Found(_with_large(row["id"], parts, orjson.loads(row["large"] or "[]")))


# ---- v2 summaries ----


@dataclass
class SummaryPage:
    total: int
    parts: list[Piece]  # the page's summaries joined by commas, ready to send


Condition = tuple[str, Any]
"""A list filter as SQL on `campaigns`: the condition, with `{}` where its one parameter
goes, and that parameter's value (the condition takes none when it has no `{}`)."""


def list_conditions(query: Any) -> list[Condition]:
    """A list query's filters (CampaignListQuery's fields) as SQL conditions."""
    out: list[Condition] = []
    if query.id is not None:
        try:
            out.append(("campaigns.id = {}", uuid.UUID(query.id)))
        except ValueError:
            out.append(("false", None))  # a malformed ID matches nothing
    if query.status == CampaignStatusV2.CANCELLED.value:
        reasons = [reason.value for reason in USER_END_REASON.values()]
        out.append(("campaigns.ended_reason = ANY({})", reasons))
    elif query.status == "archived":
        out.append(("false", None))  # archived campaigns are never listed
    elif query.status is not None:
        out.append(("campaigns.status = {}", query.status))
    for field, column, operator in _BOUNDS:
        value = getattr(query, field)
        if value is not None:
            out.append((f"campaigns.{column} {operator} {{}}", value))
    return out


_BOUNDS = [
    (f"{column}{suffix}", f"{column[:-2]}_at", operator)
    for column in ("createdAt", "updatedAt")
    for suffix, operator in (("Gt", ">"), ("Lt", "<"), ("Ge", ">="), ("Le", "<="))
]


_KEY_ORG = "(SELECT org_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL)"


def _where(conditions: tuple[str, ...]) -> str:
    """The conditions joined with AND, their parameters numbered from $4."""
    where = ""
    number = 4
    for condition in conditions:
        if "{}" in condition:
            condition = condition.format(f"${number}")
            number += 1
        where += f" AND {condition}"
    return where


# The org of the key $1 (no row: the key is not active), read once per statement.
_ORG_CTE = """org AS MATERIALIZED (
        SELECT org_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
    )"""
# The org's live campaigns (the statement's further conditions follow).
_LIVE_OF_ORG = "campaigns.org_id = (SELECT org_id FROM org) AND campaigns.archived_at IS NULL"


@functools.lru_cache(maxsize=512)
def _summary_page_sql(conditions: tuple[str, ...], ascending: bool, counters: bool) -> str:
    """The statement of a page of summaries for these conditions: $1 the key's hash, $2
    the limit, $3 the offset, then the conditions' parameters in order.

    The page is aggregated as its subquery reads it, in the page's order (as the call map's
    chunks are, see `call_entries`): no row numbers and no sort per aggregate. It answers
    the page joined by commas, ready to send; the arrays (ids, summaries, large keys) only
    when some summary has opaque objects too large to inline."""
    where, direction = _where(conditions), "ASC" if ascending else "DESC"
    order = f"campaigns.created_at {direction}, campaigns.id {direction}"
    matching = _LIVE_OF_ORG + where
    # The stored summary lacks its closing brace, so the counters can go on its end.
    counted = f" || {counters_json_sql('page')}" if counters else ""
    summary = f"page.summary_open{counted} || '}}'"
    some_large = "bool_or(r.large IS NOT NULL)"
    return f"""
    WITH {_ORG_CTE}
    SELECT (SELECT count(*) FROM org) AS authorized,
           (SELECT count(*) FROM campaigns WHERE {matching}) AS total,
           string_agg(r.summary, ',') AS joined,
           CASE WHEN {some_large} THEN array_agg(r.id) END AS ids,
           CASE WHEN {some_large} THEN array_agg(r.summary) END AS summaries,
           CASE WHEN {some_large} THEN array_agg(r.large) END AS large
    FROM (
        -- OFFSET 0 keeps this level whole, so each summary is rendered once.
        SELECT page.id, page.large, {summary} AS summary
        FROM (
            SELECT campaigns.id, campaigns.summary_open, {_LARGE_KEYS_JSON} AS large
            FROM campaigns WHERE {matching}
            ORDER BY {order} LIMIT $2 OFFSET $3
        ) page
        OFFSET 0
    ) r
    """


async def summary_page(
    conn: ReadConnection,
    *,
    key_hash: str,
    conditions: list[Condition],
    offset: int,
    limit: int,
    ascending: bool,
    counters: bool,
) -> SummaryPage | None:
    """One page of the key's org's live campaigns as v2 summaries (None: the key is not
    active), in one statement answering one row: PostgreSQL renders each summary (with its
    counters when asked) and joins the page, so no row or column of a campaign is decoded
    here, and the statement's text is built once per kind of filter. Opaque objects too
    large to inline are sent in chunks."""
    sql = _summary_page_sql(tuple(c for c, _ in conditions), ascending, counters)
    values = [value for condition, value in conditions if "{}" in condition]
    row = await conn.fetch_row(sql, key_hash, limit, offset, *values)
    if not row["authorized"]:
        return None
    total, joined = int(row["total"]), row["joined"]
    if joined is None:
        return SummaryPage(total, [])
    if row["ids"] is None:  # the usual page: every summary inline
        return SummaryPage(total, [joined.encode()])
    parts: list[Piece] = []
    for i, (campaign_id, text_, large) in enumerate(
        zip(row["ids"], row["summaries"], row["large"], strict=True)
    ):
        if i:
            parts.append(b",")
        if large is None:
            parts.append(text_.encode())
            continue
        # The opaque objects too large to inline follow the summary's other fields.
        parts += _with_large(campaign_id, [text_.rstrip().encode()], orjson.loads(large))
    return SummaryPage(total, parts)


# ---- v1 lists ----


# The audience of campaign `c` (one dial plan entry of it, by `condition`) as JSON text.
def _audience_sql(condition: str) -> str:
    return (
        "coalesce((SELECT json_agg(a.customer ORDER BY a.position)::text FROM calls a"
        f" WHERE a.campaign_id = c.id AND a.attempt_number = 1 AND {condition}), '[]')"
    )


def _body_sql(counts: str, calls: str | None) -> str:
    """SQL: the v1 body of campaign `c` (of org `o`): its stored head (the campaign's own
    fields, see models.Campaign.head), then its audience, its call map (the JSON text
    `calls`), the v1 counters of the row `counts` and its org's dispatch block. With `calls`
    None, each audience and the call map are left as a marker (_MARK), to be read a chunk
    at a time while the body is sent."""
    marked = calls is None

    def audience(condition: str) -> str:
        return "chr(1)" if marked else _audience_sql(condition)

    return f"""
    left(c.head, -1)
    || CASE WHEN jsonb_typeof(c.dial_plan_numbers) IS DISTINCT FROM 'array'  -- no dial plan
            THEN ',"customers":' || {audience("a.dial_plan_index IS NULL")}
            ELSE ',"dialPlan":[' || coalesce((
                SELECT string_agg('{{"phoneNumberId":' || n.number::text || ',"customers":'
                                  || {audience("a.dial_plan_index = n.i - 1")} || '}}',
                                  ',' ORDER BY n.i)
                FROM jsonb_array_elements(c.dial_plan_numbers) WITH ORDINALITY n(number, i)
            ), '') || ']' END
    || ',"calls":' || {"chr(1)" if marked else f"coalesce({calls}, '{{}}')"}
    || ',"callsCounterScheduled":' || {counts}.scheduled
    || ',"callsCounterQueued":' || {counts}.queued
    || ',"callsCounterInProgress":' || {counts}.in_progress
    || ',"callsCounterEndedVoicemail":' || {counts}.voicemail
    || ',"callsCounterEnded":' || {counts}.ended
    || CASE WHEN c.status <> '{CampaignStatus.ENDED.value}'
                 AND o.dispatch_blocked_reason IS NOT NULL
            THEN ',"dispatchBlockedReason":' || to_json(o.dispatch_blocked_reason)::text
            ELSE '' END
    || '}}'
"""


_VOICEMAIL_SQL = f"'{VOICEMAIL}'"

_COUNTS = f"""
    SELECT {call_map()} AS calls, {v1_counters(_VOICEMAIL_SQL)}
    FROM calls k WHERE k.campaign_id = c.id
"""

_BODIES = f"""
    SELECT array_agg({_body_sql("g", "g.calls")} ORDER BY p.ord)
    FROM unnest($1::uuid[]) WITH ORDINALITY AS p(id, ord)
    JOIN campaigns c ON c.id = p.id
    JOIN orgs o ON o.id = c.org_id
    LEFT JOIN LATERAL ({_COUNTS}) g ON true
"""


@dataclass
class ListPage:
    total: int
    ids: list[uuid.UUID]
    estimates: list[int]  # each body's estimated size, from stored sizes
    large: list[list[str]]  # each campaign's opaque objects too large to inline


@functools.lru_cache(maxsize=512)
def _list_page_sql(conditions: tuple[str, ...], ascending: bool) -> str:
    """The statement of a page of v1 campaigns (ids, estimated sizes, opaque objects too
    large to inline) for these conditions: parameters as in `_summary_page_sql`."""
    where, direction = _where(conditions), "ASC" if ascending else "DESC"
    order = f"campaigns.created_at {direction}, campaigns.id {direction}"
    matching = _LIVE_OF_ORG + where
    # Aggregated in the page's order, as `_summary_page_sql` does.
    return f"""
    WITH {_ORG_CTE}
    SELECT (SELECT count(*) FROM org) AS authorized,
           (SELECT count(*) FROM campaigns WHERE {matching}) AS total,
           array_agg(page.id) AS ids,
           array_agg((SELECT {_ESTIMATE} FROM calls k WHERE k.campaign_id = page.id)
                     + page.extra_size) AS estimates,
           array_agg(page.large) AS large
    FROM (
        SELECT campaigns.id, {_EXTRA_SIZE} AS extra_size, {_LARGE_KEYS_JSON} AS large
        FROM campaigns WHERE {matching}
        ORDER BY {order} LIMIT $2 OFFSET $3
    ) page
    """


async def list_page(
    conn: ReadConnection,
    *,
    key_hash: str,
    conditions: list[Condition],
    offset: int,
    limit: int,
    ascending: bool,
) -> ListPage | None:
    """One page of the key's org's live campaigns (None: the key is not active): which
    campaigns, in order, and how large their bodies are; `list_body` reads the bodies."""
    sql = _list_page_sql(tuple(c for c, _ in conditions), ascending)
    values = [value for condition, value in conditions if "{}" in condition]
    row = await conn.fetch_row(sql, key_hash, limit, offset, *values)
    if not row["authorized"]:
        return None
    ids = list(row["ids"] or [])
    large = [orjson.loads(names) if names else [] for names in (row["large"] or [])]
    return ListPage(int(row["total"]), ids, [int(e) for e in row["estimates"] or []], large)


Run = list[tuple[uuid.UUID, int, list[str]]]  # campaigns read together: id, size, large keys


def batches(page: ListPage) -> Iterator[Run]:
    """The page's campaigns in runs whose bodies together stay under BATCH_BYTES (a campaign
    bigger than that alone)."""
    run: Run = []
    size = 0
    for item in zip(page.ids, page.estimates, page.large, strict=True):
        if run and size + item[1] > BATCH_BYTES:
            yield run
            run, size = [], 0
        run.append(item)
        size += item[1]
    if run:
        yield run


async def bodies(conn: ReadConnection, run: Run, *, key_hash: str) -> list[list[Piece]]:
    """The v1 bodies of a run's campaigns, in order: rendered whole by one statement, or, for
    a campaign larger than BATCH_BYTES, as the GET path sends it (a chunk at a time)."""
    if len(run) == 1 and run[0][1] > BATCH_BYTES:
        found = await _campaign(conn, key_hash=key_hash, campaign_id=run[0][0])
        return [found.body] if found is not None and found.body is not None else []
    row = await conn.fetch_row(_BODIES, [campaign_id for campaign_id, _, _ in run])
    texts = row[0] or []
    return [
        _with_large(campaign_id, [body.encode()], large)
        for (campaign_id, _, large), body in zip(run, texts, strict=True)
    ]


def _with_large(campaign_id: uuid.UUID, parts: list[Piece], large: list[str]) -> list[Piece]:
    """A body rendered by PostgreSQL (its pieces, the last one closing it), closed by the
    opaque objects too large to inline (sent in chunks)."""
    if not large:
        return parts
    last = parts[-1]
    assert isinstance(last, bytes)
    out = [*parts[:-1], last.removesuffix(b"}")]
    for key in [k for k in EXTRA_CONFIG_FIELDS if k in large]:
        out += (b"," + orjson.dumps(key) + b":", Deferred(campaign_id, False, key=key))
    return [*out, b"}"]


# A live campaign of the key's org, with its estimated size and v1 counters (one pass over
# its calls), rendered whole when the estimate fits $3 bytes, else as its top level with
# markers where its audience and call map go (`plans`: the number of dial plan entries,
# null without a dial plan).
_ONE = f"""
    WITH c AS (
        SELECT campaigns.*, {_LARGE_KEYS_JSON} AS large,
               n.calls_estimate + {_EXTRA_SIZE} AS estimate, n.scheduled, n.queued,
               n.in_progress, n.ended, n.voicemail, n.low, n.high
        FROM campaigns, LATERAL (
            SELECT {_ESTIMATE} AS calls_estimate, {v1_counters(_VOICEMAIL_SQL)},
                   min(k.position) AS low, max(k.position) AS high
            FROM calls k WHERE k.campaign_id = campaigns.id
        ) n
        WHERE campaigns.org_id = {_KEY_ORG} AND campaigns.id = $2
          AND campaigns.archived_at IS NULL
    )
    SELECT (SELECT count(*) FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL)
               AS authorized,
           c.id, c.large, c.estimate > $3 AS deferred, c.low, c.high,
           CASE WHEN jsonb_typeof(c.dial_plan_numbers) = 'array'
                THEN jsonb_array_length(c.dial_plan_numbers) END AS plans,
           CASE WHEN c.estimate <= $3 THEN (
               SELECT {_body_sql("c", "g.calls")}
               FROM orgs o, LATERAL (SELECT {call_map()} AS calls
                                     FROM calls k WHERE k.campaign_id = c.id) g
               WHERE o.id = c.org_id
           ) ELSE (
               SELECT {_body_sql("c", None)} FROM orgs o WHERE o.id = c.org_id
           ) END AS body
    FROM (SELECT 1) one LEFT JOIN c ON true
"""


async def list_body(
    engine: AsyncEngine,
    conn: ReadConnection,
    page: ListPage,
    head: bytes,
    tail: bytes,
    *,
    key_hash: str,
) -> tuple[list[Piece], AsyncIterator[bytes] | None]:
    """`head` + the page's bodies joined by commas + `tail`: ready when the page fits in one
    batch (read on `conn`), else the first batch and an iterator reading and yielding the
    rest on connections of its own."""
    runs = list(batches(page))
    first = await bodies(conn, runs[0], key_hash=key_hash) if runs else []
    out = [head, *_joined(first, leading=False)]
    if len(runs) <= 1:
        return [*out, tail], None

    async def rest() -> AsyncIterator[bytes]:
        for run in runs[1:]:
            async with read_connection(engine) as more:
                chunk = await bodies(more, run, key_hash=key_hash)
            async for part in expand(engine, _joined(chunk, leading=True)):
                yield part
            del chunk
        yield tail

    return out, rest()


def _joined(documents: list[list[Piece]], *, leading: bool) -> list[Piece]:
    out: list[Piece] = []
    for i, document in enumerate(documents):
        if i or leading:
            out.append(b",")
        out += document
    return out
