"""A campaign's history: its lifecycle moves, oldest first (an extension of Vapi's API)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.campaigns.schemas_v2 import (
    CampaignHistoryEntry,
    CampaignHistoryPaginatedResponse,
    HistoryQuery,
)
from campaign_service.campaigns.state import DETAIL, Cause
from campaign_service.db.models import CampaignEvent
from campaign_service.schema_types import PaginationMeta


async def history_page(
    session: AsyncSession, *, campaign_id: uuid.UUID, query: HistoryQuery
) -> CampaignHistoryPaginatedResponse:
    where = CampaignEvent.campaign_id == campaign_id
    total = (
        await session.execute(select(func.count()).select_from(CampaignEvent).where(where))
    ).scalar_one()
    rows = (
        await session.execute(
            select(CampaignEvent)
            .where(where)
            .order_by(CampaignEvent.id)
            .offset((query.page - 1) * query.limit)
            .limit(query.limit)
        )
    ).scalars()
    return CampaignHistoryPaginatedResponse(
        results=[
            CampaignHistoryEntry(
                id=str(row.id),
                campaignId=str(row.campaign_id),
                fromStatus=row.from_stage,
                toStatus=row.to_stage,
                endedReason=row.ended_reason,
                cause=row.cause,
                source=row.source,
                detail=DETAIL[Cause(row.cause)],
                reason=row.reason,
                createdAt=row.created_at,
            )
            for row in rows
        ],
        metadata=PaginationMeta.for_page(
            total=int(total), page=query.page, limit=query.limit, sort_order="ASC"
        ),
    )
