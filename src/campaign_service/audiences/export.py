"""A campaign's results as a file: one row per contact, CSV or NDJSON, produced chunk by chunk.

CSV columns: the customer fields, one column per variable (the union of the audience's
variable names), then the outcome. A variable whose name is taken by a fixed column is written
as `var_<name>`. The file re-imports as it is (`POST /campaigns/import`): outcome columns
become variables of the new campaign.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.audiences import export_repository as queries
from campaign_service.audiences.csv_import import CUSTOMER_COLUMNS
from campaign_service.timeutil import iso_z

Format = Literal["csv", "ndjson"]
CHUNK_ROWS = 1000
RESULT_COLUMNS = (
    "callId",
    "outcome",
    "endedReason",
    "skipReason",
    "attempts",
    "dispatchedAt",
    "endedAt",
    "durationSeconds",
    # No provider reports cost yet; the column is there for one that will.
    "cost",
)
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def filename(name: str, campaign_id: uuid.UUID, fmt: Format) -> str:
    """ASCII-only, so it fits a Content-Disposition header as it is."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "campaign"
    return f"{slug}-{str(campaign_id)[:8]}.{fmt}"


def variable_columns(variables: Sequence[str]) -> dict[str, str]:
    """Column name of each variable; fixed columns keep their names."""
    taken = set(CUSTOMER_COLUMNS) | set(RESULT_COLUMNS)
    columns: dict[str, str] = {}
    for name in variables:
        column = name
        while column in taken:
            column = f"var_{column}"
        taken.add(column)
        columns[name] = column
    return columns


async def export_chunks(
    session: AsyncSession, *, campaign_id: uuid.UUID, fmt: Format
) -> AsyncIterator[bytes]:
    """The whole file, a chunk of rows at a time (the first CSV chunk is its header)."""
    variables: dict[str, str] = {}
    if fmt == "csv":
        variables = variable_columns(await queries.variable_names(session, campaign_id=campaign_id))
        yield _csv_text([[*CUSTOMER_COLUMNS, *variables.values(), *RESULT_COLUMNS]])
    async for rows in queries.contact_chunks(session, campaign_id=campaign_id, chunk=CHUNK_ROWS):
        if fmt == "csv":
            yield _csv_text([_csv_row(row, variables) for row in rows])
        else:
            yield b"".join(orjson.dumps(_record(row)) + b"\n" for row in rows)


def _csv_text(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def _outcome(row: Any) -> dict[str, Any]:
    started: datetime | None = row.started_at
    ended: datetime | None = row.ended_at
    duration = None
    if started is not None and ended is not None:
        duration = round((ended - started).total_seconds(), 3)
    return {
        "callId": str(row.id),
        "outcome": row.outcome,
        "endedReason": row.ended_reason,
        "skipReason": row.skip_reason,
        "attempts": row.attempts,
        "dispatchedAt": iso_z(started) if started else None,
        "endedAt": iso_z(ended) if ended else None,
        "durationSeconds": duration,
        "cost": None,
    }


def _record(row: Any) -> dict[str, Any]:
    return {"position": row.position, "customer": row.customer, **_outcome(row)}


def _csv_row(row: Any, variables: dict[str, str]) -> list[str]:
    customer: dict[str, Any] = row.customer
    values = (customer.get("assistantOverrides") or {}).get("variableValues")
    if not isinstance(values, dict):
        values = {}
    outcome = _outcome(row)
    return [
        *(_cell(customer.get(name)) for name in CUSTOMER_COLUMNS),
        *(_cell(values.get(name)) for name in variables),
        *(_cell(outcome[name]) for name in RESULT_COLUMNS),
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return orjson.dumps(value).decode()  # objects and lists, as JSON
