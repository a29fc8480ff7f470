"""Call records as the API shows them: one call, and a campaign's calls page by page."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.schemas import CallDetails, CallListQuery, CallPaginatedResponse
from campaign_service.calls.status import CallStatus
from campaign_service.db.models import Call
from campaign_service.schema_types import PaginationMeta

CALL_COLUMNS = (
    Call.id,
    Call.campaign_id,
    Call.position,
    Call.dial_plan_index,
    Call.phone_number_id,
    Call.customer,
    Call.status,
    Call.ended_reason,
    Call.skip_reason,
    Call.attempt_number,
    Call.contact_id,
    Call.next_attempt_at,
    Call.lease_expires_at,
    Call.provider_call_id,
    Call.provider_error,
    Call.cost,
    Call.end_report,
    Call.started_at,
    Call.ended_at,
    Call.created_at,
    Call.updated_at,
)


def _waiting(row: Any) -> bool:
    return bool(row.status == CallStatus.SCHEDULED and row.lease_expires_at is None)


def call_details(row: Any) -> CallDetails:
    return CallDetails(
        id=str(row.id),
        campaignId=str(row.campaign_id),
        position=row.position,
        customer=row.customer,
        phoneNumberId=row.phone_number_id,
        status=row.status,
        endedReason=row.ended_reason,
        skipReason=row.skip_reason,
        attempt=row.attempt_number,
        contactId=str(row.contact_id) if row.contact_id else None,
        nextAttemptAt=row.next_attempt_at if _waiting(row) else None,
        providerCallId=row.provider_call_id,
        providerError=row.provider_error,
        cost=row.cost,
        endOfCallReport=row.end_report,
        startedAt=row.started_at,
        endedAt=row.ended_at,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


async def call(
    session: AsyncSession, *, campaign_id: uuid.UUID, call_id: uuid.UUID
) -> CallDetails | None:
    stmt = select(*CALL_COLUMNS).where(Call.campaign_id == campaign_id, Call.id == call_id)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else call_details(row)


async def calls_page(
    session: AsyncSession, *, campaign_id: uuid.UUID, query: CallListQuery
) -> CallPaginatedResponse:
    where = [Call.campaign_id == campaign_id]
    if query.status is not None:
        where.append(Call.status == query.status.value)
    total = (
        await session.execute(select(func.count()).select_from(Call).where(*where))
    ).scalar_one()
    order = Call.position.asc() if query.sortOrder == "ASC" else Call.position.desc()
    offset = (query.page - 1) * query.limit
    stmt = select(*CALL_COLUMNS).where(*where).order_by(order).offset(offset).limit(query.limit)
    rows = (await session.execute(stmt)).all()
    return CallPaginatedResponse.model_construct(
        results=[call_details(r) for r in rows],
        metadata=PaginationMeta.for_page(
            total=int(total), page=query.page, limit=query.limit, sort_order=query.sortOrder
        ),
    )
