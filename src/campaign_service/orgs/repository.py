"""SQL of the orgs' provider settings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import Org


async def lock_org(session: AsyncSession, org_id: uuid.UUID) -> Org | None:
    """The org, its row locked until the transaction ends (settings change one at a time)."""
    stmt = select(Org).where(Org.id == org_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_org(session: AsyncSession, org_id: uuid.UUID) -> Org | None:
    return (await session.execute(select(Org).where(Org.id == org_id))).scalar_one_or_none()


async def org_by_webhook_token(session: AsyncSession, token: str) -> Org | None:
    stmt = select(Org).where(Org.webhook_token == token)
    return (await session.execute(stmt)).scalar_one_or_none()


async def save_provider_settings(
    session: AsyncSession, org_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Write the given provider columns (provider, vapi_api_key_encrypted,
    vapi_api_key_fingerprint, vapi_base_url) of one org."""
    await session.execute(update(Org).where(Org.id == org_id).values(**values))


async def lock_encrypted_vapi_keys(session: AsyncSession) -> Sequence[tuple[uuid.UUID, str]]:
    """Every stored Vapi key ciphertext, rows locked (a rotation rewrites them all)."""
    stmt = (
        select(Org.id, Org.vapi_api_key_encrypted)
        .where(Org.vapi_api_key_encrypted.is_not(None))
        .order_by(Org.id)
        .with_for_update()
    )
    rows = (await session.execute(stmt)).all()
    return [(row[0], str(row[1])) for row in rows]


async def save_encrypted_vapi_key(session: AsyncSession, org_id: uuid.UUID, token: str) -> None:
    stmt = update(Org).where(Org.id == org_id).values(vapi_api_key_encrypted=token)
    await session.execute(stmt)


async def block_dispatch(
    session: AsyncSession, org_id: uuid.UUID, *, reason: str, now: datetime
) -> None:
    """Stop dispatching the org's calls (kept: the first reason and when it was given)."""
    stmt = (
        update(Org)
        .where(Org.id == org_id, Org.dispatch_blocked_reason.is_(None))
        .values(dispatch_blocked_reason=reason, dispatch_blocked_at=now)
    )
    await session.execute(stmt)


async def dispatch_blocked_reasons(
    session: AsyncSession, org_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    stmt = select(Org.id, Org.dispatch_blocked_reason).where(
        Org.id.in_(list(org_ids)), Org.dispatch_blocked_reason.is_not(None)
    )
    return {row[0]: str(row[1]) for row in (await session.execute(stmt)).all()}
