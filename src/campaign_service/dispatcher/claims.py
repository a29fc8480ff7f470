"""Claiming calls to dial, under the campaign and org concurrency limits.

Correctness across any number of dispatcher processes rests on one lock: a claim locks the
org's row first, so claims for one org are serialised, and every count taken after the lock sees
all committed claims. Counts can only shrink concurrently (calls ending), which is safe.
A call holds a slot from its claim (lease set) until it ends, so a call being dialed is counted
even before the provider has answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.calls.repository import ClaimedCall


def allocate(free_org: int, free_by_campaign: dict[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Share the org's free slots among its campaigns round-robin, oldest campaign first."""
    grant = dict.fromkeys(free_by_campaign, 0)
    remaining = free_org
    while remaining > 0:
        progressed = False
        for campaign_id, free in free_by_campaign.items():
            if remaining == 0:
                break
            if grant[campaign_id] < free:
                grant[campaign_id] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return grant


async def claim_for_org(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[ClaimedCall]:
    """Claim as many due calls of one org as its limits allow (at most `limit`)."""
    org_limit = await calls.lock_org_for_claim(session, org_id=org_id)
    if org_limit is None:  # another dispatcher is claiming for this org right now
        return []
    campaigns = await calls.running_campaigns_for_claim(session, org_id=org_id)
    if not campaigns:
        return []
    busy_org, busy = await calls.in_flight_counts(
        session, org_id=org_id, campaign_ids=[campaign_id for campaign_id, _ in campaigns]
    )
    free_org = min(org_limit - busy_org, limit)
    free = {campaign_id: max(0, cap - busy.get(campaign_id, 0)) for campaign_id, cap in campaigns}
    claimed: list[ClaimedCall] = []
    for campaign_id, count in allocate(free_org, free).items():
        if count:
            claimed += await calls.lease_due_calls(
                session,
                campaign_id=campaign_id,
                count=count,
                owner=owner,
                now=now,
                lease_until=lease_until,
            )
    return claimed
