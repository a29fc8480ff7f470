"""Read-only views of organizations and their API keys, for operators (`org list`, `key list`).

A key is shown by its ID, creation and revocation times only: never the key or its hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import ApiKey, Org
from campaign_service.errors import NotFound


@dataclass(frozen=True)
class OrgRow:
    org_id: uuid.UUID
    name: str
    concurrency_limit: int
    created_at: datetime
    active_keys: int


@dataclass(frozen=True)
class KeyRow:
    key_id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None


async def list_orgs(session: AsyncSession) -> list[OrgRow]:
    """Every org, oldest first, with how many of its keys still work."""
    active = (
        select(func.count())
        .where(ApiKey.org_id == Org.id, ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    stmt = select(Org.id, Org.name, Org.concurrency_limit, Org.created_at, active).order_by(
        Org.created_at, Org.id
    )
    return [OrgRow(*row) for row in (await session.execute(stmt)).all()]


async def list_keys(session: AsyncSession, *, org_id: uuid.UUID) -> list[KeyRow]:
    """The org's keys, oldest first, revoked ones included."""
    if await session.get(Org, org_id) is None:
        raise NotFound(f"org {org_id} not found")
    stmt = (
        select(ApiKey.id, ApiKey.created_at, ApiKey.revoked_at)
        .where(ApiKey.org_id == org_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return [KeyRow(*row) for row in (await session.execute(stmt)).all()]
