"""The do-not-call list: add, remove, list and bulk-add numbers. Services never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.audiences import dnc_repository as repo
from campaign_service.audiences.dnc_csv import parse_dnc_file
from campaign_service.audiences.errors import RowsRejected
from campaign_service.audiences.phone import InvalidNumber, to_e164
from campaign_service.audiences.schemas import (
    AddDncNumberDTO,
    DncEntry,
    DncImportResult,
    DncListQuery,
    DncPaginatedResponse,
    RowErrorItem,
)
from campaign_service.db.models import DncNumber
from campaign_service.errors import BadRequest, NotFound
from campaign_service.schema_types import PaginationMeta


def normalized(number: str, region: str | None) -> str:
    """E.164 form of a number given to the API or CLI; 400 when it is not a phone number."""
    try:
        return to_e164(number, region).number
    except InvalidNumber as exc:
        raise BadRequest(f"number {exc}") from None


def entry(row: DncNumber) -> DncEntry:
    return DncEntry(
        number=row.number, reason=row.reason, source=row.source, createdAt=row.created_at
    )


async def add_number(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    dto: AddDncNumberDTO,
    region: str | None,
    channel: str,
    now: datetime,
) -> tuple[DncEntry, bool]:
    """Put a number on the list; adding a listed number again changes nothing."""
    row, added = await repo.add_number(
        session,
        org_id=org_id,
        number=normalized(dto.number, region),
        reason=dto.reason,
        source=dto.source or channel,
        now=now,
    )
    return entry(row), added


async def remove_number(
    session: AsyncSession, *, org_id: uuid.UUID, number: str, region: str | None
) -> DncEntry:
    row = await repo.remove_number(session, org_id=org_id, number=normalized(number, region))
    if row is None:
        raise NotFound(f"{number} is not on the do-not-call list")
    return entry(row)


async def list_numbers(
    session: AsyncSession, *, org_id: uuid.UUID, query: DncListQuery
) -> DncPaginatedResponse:
    number = normalized(query.number, query.defaultRegion) if query.number else None
    rows, total = await repo.page_of_numbers(
        session,
        org_id=org_id,
        number=number,
        offset=(query.page - 1) * query.limit,
        limit=query.limit,
    )
    return DncPaginatedResponse(
        results=[entry(r) for r in rows],
        metadata=PaginationMeta.for_page(
            total=total, page=query.page, limit=query.limit, sort_order="DESC"
        ),
    )


async def import_numbers(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    data: bytes,
    region: str | None,
    skip_invalid_rows: bool,
    channel: str,
    now: datetime,
) -> DncImportResult:
    """Add every number of a CSV file; by default nothing is added when a row is bad."""
    parsed = parse_dnc_file(data, default_region=region)
    problems = sorted([*parsed.file_errors, *parsed.row_errors], key=lambda e: e.row)
    if parsed.file_errors or (parsed.row_errors and not skip_invalid_rows):
        raise RowsRejected(["nothing was added to the do-not-call list"], problems)
    if not parsed.entries:
        raise RowsRejected(["the file has no usable numbers below its header row"], problems)
    added = await repo.add_numbers(
        session,
        org_id=org_id,
        entries=[(e.number, e.reason, e.source or channel) for e in parsed.entries],
        now=now,
    )
    return DncImportResult(
        rowsRead=parsed.rows_read,
        added=added,
        alreadyListed=len(parsed.entries) - added,
        rowErrors=[
            RowErrorItem(row=e.row, column=e.column, message=e.message) for e in parsed.row_errors
        ],
    )
