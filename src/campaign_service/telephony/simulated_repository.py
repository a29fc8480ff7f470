"""The simulated network's own storage (tables sim_calls and sim_call_steps), as a real
provider keeps its calls on its own servers. Only the simulated provider uses it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.status import CallStatus
from campaign_service.db.models import SimCall, SimCallStep

# Serialises capacity checks, so two dials cannot both take the last line.
_CAPACITY_LOCK = 7310442002


async def repeat_request(session: AsyncSession, *, key: str) -> str | None:
    """The call already placed under this idempotency key (counting the repeat), if any."""
    return (
        await session.execute(
            text(
                "UPDATE sim_calls SET dial_requests = dial_requests + 1 "
                "WHERE idempotency_key = :k RETURNING provider_call_id"
            ),
            {"k": key},
        )
    ).scalar_one_or_none()


async def find_by_key(session: AsyncSession, *, key: str) -> str | None:
    """The call placed under this idempotency key, if any (a lookup, not a dial request)."""
    return (
        await session.execute(
            select(SimCall.provider_call_id).where(SimCall.idempotency_key == key)
        )
    ).scalar_one_or_none()


async def active_calls_locked(session: AsyncSession) -> int:
    """Calls the network carries now, under a lock held until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CAPACITY_LOCK})
    return int(
        (
            await session.execute(
                select(func.count()).select_from(SimCall).where(SimCall.ended_at.is_(None))
            )
        ).scalar_one()
    )


async def insert_call(
    session: AsyncSession,
    *,
    provider_call_id: str,
    key: str,
    call_id: uuid.UUID,
    attempt: int,
    outcome: str,
    steps: Sequence[tuple[CallStatus, str | None, datetime]],
    now: datetime,
) -> bool:
    """Store a new call and its timeline; False if a concurrent request with the same key won."""
    inserted = (
        await session.execute(
            insert(SimCall)
            .values(
                provider_call_id=provider_call_id,
                idempotency_key=key,
                call_id=call_id,
                attempt=attempt,
                outcome=outcome,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(SimCall.provider_call_id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return False
    session.add_all(
        SimCallStep(
            provider_call_id=provider_call_id,
            call_id=call_id,
            status=status.value,
            ended_reason=reason,
            due_at=due,
        )
        for status, reason, due in steps
    )
    return True


async def due_steps(session: AsyncSession, *, now: datetime, limit: int) -> list[SimCallStep]:
    """Undelivered steps whose time has come, locked (other pumps skip them)."""
    return list(
        (
            await session.execute(
                select(SimCallStep)
                .where(SimCallStep.delivered_at.is_(None), SimCallStep.due_at <= now)
                .order_by(SimCallStep.due_at, SimCallStep.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )


async def mark_delivered(
    session: AsyncSession, steps: Sequence[SimCallStep], *, now: datetime
) -> None:
    for step in steps:
        step.delivered_at = now
    ended = [s.provider_call_id for s in steps if s.status == CallStatus.ENDED.value]
    if ended:
        await session.execute(
            text("UPDATE sim_calls SET ended_at = :now WHERE provider_call_id = ANY(:ids)"),
            {"now": now, "ids": ended},
        )


async def next_due(session: AsyncSession) -> datetime | None:
    due: datetime | None = (
        await session.execute(
            select(func.min(SimCallStep.due_at)).where(SimCallStep.delivered_at.is_(None))
        )
    ).scalar_one_or_none()
    return due
