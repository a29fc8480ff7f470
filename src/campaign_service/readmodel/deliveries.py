"""A campaign's recent events (serverMessages) and how their delivery stands (extension)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.campaigns.schemas_events import Delivery, DeliveryList, DeliveryQuery
from campaign_service.db.models import Campaign
from campaign_service.events.repository import recent_deliveries


async def deliveries(
    session: AsyncSession, campaign: Campaign, query: DeliveryQuery
) -> DeliveryList:
    rows = await recent_deliveries(
        session, campaign_id=campaign.id, limit=query.limit, state=query.state
    )
    return DeliveryList(
        results=[
            Delivery(
                id=str(r.event_id),
                type=r.type,
                state=r.state,
                attempts=r.attempts,
                lastStatusCode=r.last_status_code,
                lastError=r.last_error,
                nextAttemptAt=r.next_attempt_at if r.state == "pending" else None,
                deliveredAt=r.delivered_at,
                createdAt=r.created_at,
            )
            for r in rows
        ]
    )
