"""SQL of the idempotency_keys table (its one owner)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import IdempotencyKey


@dataclass(frozen=True)
class StoredRequest:
    """What a key was first used for, and the answer it got (None until stored)."""

    method: str
    path: str
    fingerprint: str
    status_code: int | None
    media_type: str | None
    body: bytes | None


async def purge_expired(session: AsyncSession, *, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` keys (of any org) first used before `before`; returns how many.

    Rows another transaction holds are skipped, so a purge never waits behind a running
    write; a later one removes them."""
    expired = (
        select(IdempotencyKey.org_id, IdempotencyKey.key)
        .where(IdempotencyKey.created_at < before)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = delete(IdempotencyKey).where(
        tuple_(IdempotencyKey.org_id, IdempotencyKey.key).in_(expired.scalar_subquery())
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_key(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    now: datetime,
) -> bool:
    """Insert the key's row in this transaction; False if the key is taken.

    A concurrent transaction that inserted the same key and has not ended yet makes this
    statement wait on the primary key until it commits (taken) or rolls back (ours)."""
    stmt = (
        insert(IdempotencyKey)
        .values(
            org_id=org_id,
            key=key,
            method=method,
            path=path,
            fingerprint=fingerprint,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["org_id", "key"])
        .returning(IdempotencyKey.key)
    )
    return (await session.execute(stmt)).first() is not None


async def stored_request(session: AsyncSession, *, org_id: uuid.UUID, key: str) -> StoredRequest:
    stmt = select(
        IdempotencyKey.method,
        IdempotencyKey.path,
        IdempotencyKey.fingerprint,
        IdempotencyKey.status_code,
        IdempotencyKey.media_type,
        IdempotencyKey.body,
    ).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
    row = (await session.execute(stmt)).one()
    return StoredRequest(*row)


async def store_response(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    key: str,
    status_code: int,
    media_type: str | None,
    body: bytes,
) -> None:
    stmt = (
        update(IdempotencyKey)
        .where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
        .values(status_code=status_code, media_type=media_type, body=body)
    )
    await session.execute(stmt)
