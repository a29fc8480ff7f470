"""Claiming calls to dial, under the campaign and org concurrency limits.

Correctness across any number of dispatcher processes rests on one lock: a claim locks the
org's row first, so claims for one org are serialised, and the counts taken by the statement
that follows the lock see all committed claims. Counts can only shrink concurrently (calls
ending), which is safe. A call holds a slot from its claim (lease set) until it ends, so a
call being dialed is counted even before the provider has answered.

A claim is two statements in one transaction: lock an org with due calls (passing over orgs
another dispatcher is claiming for), then count, share out and lease in one statement. The
org's lock is held for that one statement and the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.calls.repository import ClaimedCall


async def claim_for_next_org(
    session: AsyncSession,
    *,
    skip: Sequence[uuid.UUID],
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> tuple[uuid.UUID | None, list[ClaimedCall], bool]:
    """Claim as many due calls of one org (not in `skip`) as its limits allow (at most
    `limit`); (the org, its calls, whether other orgs had calls to claim), or (None, [],
    False) when no other org has calls to claim now.

    An org whose lock another claim holds is passed over for one that is free; when all are
    held, this waits for one (that claim may have counted its slots before a call ended, so
    passing over it could leave a freed slot unclaimed until the next wake-up)."""
    locked = await calls.lock_org_to_claim(session, now=now, skip=skip)
    if locked.org_id is None and locked.due:
        locked = await calls.lock_org_to_claim(session, now=now, skip=skip, wait=True)
    if locked.org_id is None:
        return None, [], False
    org_id = locked.org_id
    claimed = await calls.claim_due_calls(
        session,
        org_id=org_id,
        org_limit=locked.concurrency_limit,
        owner=owner,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )
    return org_id, claimed, locked.due > 1
