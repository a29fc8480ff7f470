"""Organizations and their API keys. Keys are shown once and stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import ApiKey, Org
from campaign_service.errors import BadRequest, NotFound

KEY_PREFIX = "csk_"


@dataclass(frozen=True)
class NewKey:
    key_id: uuid.UUID
    org_id: uuid.UUID
    api_key: str


def hash_key(api_key: str) -> str:
    # The key carries 256 random bits, so a plain digest is enough (no slow KDF needed).
    return hashlib.sha256(api_key.encode()).hexdigest()


async def create_org(session: AsyncSession, *, name: str, concurrency_limit: int) -> NewKey:
    if not name.strip():
        raise BadRequest("org name should not be empty")
    if concurrency_limit < 1:
        raise BadRequest("concurrency limit must be at least 1")
    org = Org(id=uuid.uuid4(), name=name, concurrency_limit=concurrency_limit)
    session.add(org)
    await session.flush()
    return await create_key(session, org_id=org.id)


async def create_key(session: AsyncSession, *, org_id: uuid.UUID) -> NewKey:
    if await session.get(Org, org_id) is None:
        raise NotFound(f"org {org_id} not found")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id=uuid.uuid4(), org_id=org_id, key_hash=hash_key(api_key))
    session.add(key)
    await session.flush()
    return NewKey(key_id=key.id, org_id=org_id, api_key=api_key)


async def revoke_key(session: AsyncSession, *, key_id: uuid.UUID, now: datetime) -> None:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.id)
    )
    if result.scalar_one_or_none() is None:
        raise NotFound(f"active key {key_id} not found")


async def org_for_key(session: AsyncSession, api_key: str) -> Org | None:
    stmt = (
        select(Org)
        .join(ApiKey, ApiKey.org_id == Org.id)
        .where(ApiKey.key_hash == hash_key(api_key), ApiKey.revoked_at.is_(None))
    )
    return (await session.execute(stmt)).scalar_one_or_none()
