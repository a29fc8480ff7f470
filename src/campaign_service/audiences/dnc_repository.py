"""SQL for the do-not-call list (table `dnc_numbers`). Every statement is scoped to one org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import DncNumber

_BLOCKED = text(
    "SELECT number FROM dnc_numbers WHERE org_id = :org AND number = ANY(CAST(:numbers AS text[]))"
)


async def blocked_numbers(
    session: AsyncSession, *, org_id: uuid.UUID, numbers: Sequence[str]
) -> set[str]:
    """Which of `numbers` (E.164, as stored on call records) the org must not call.

    One primary-key lookup per number in a single statement, so the dispatcher can call it
    for a whole claimed batch inside its claim transaction.
    """
    if not numbers:
        return set()
    result = await session.execute(_BLOCKED, {"org": org_id, "numbers": list(numbers)})
    return set(result.scalars())


async def add_number(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    number: str,
    reason: str | None,
    source: str,
    now: datetime,
) -> tuple[DncNumber, bool]:
    """The entry for `number` and whether this call added it (an existing entry is kept as is)."""
    stmt = (
        insert(DncNumber)
        .values(org_id=org_id, number=number, reason=reason, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=[DncNumber.org_id, DncNumber.number])
        .returning(DncNumber)
    )
    added = (await session.execute(stmt)).scalar_one_or_none()
    if added is not None:
        return added, True
    existing = await get_number(session, org_id=org_id, number=number)
    assert existing is not None  # the conflict says it exists, and entries are only deleted
    return existing, False


_ADD_MANY = text(
    """
    INSERT INTO dnc_numbers (org_id, number, reason, source, created_at)
    SELECT :org, entry.number, entry.reason, entry.source, :now
    FROM unnest(CAST(:numbers AS text[]), CAST(:reasons AS text[]), CAST(:sources AS text[]))
         AS entry(number, reason, source)
    ON CONFLICT (org_id, number) DO NOTHING
    RETURNING number
    """
)


async def add_numbers(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    entries: Sequence[tuple[str, str | None, str]],
    now: datetime,
) -> int:
    """Add (number, reason, source) entries in one statement; returns how many were new."""
    if not entries:
        return 0
    numbers, reasons, sources = (list(column) for column in zip(*entries, strict=True))
    result = await session.execute(
        _ADD_MANY,
        {"org": org_id, "numbers": numbers, "reasons": reasons, "sources": sources, "now": now},
    )
    return len(result.all())


async def get_number(session: AsyncSession, *, org_id: uuid.UUID, number: str) -> DncNumber | None:
    stmt = select(DncNumber).where(DncNumber.org_id == org_id, DncNumber.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def remove_number(
    session: AsyncSession, *, org_id: uuid.UUID, number: str
) -> DncNumber | None:
    """Delete the entry; returns it, or None when the number was not listed."""
    stmt = (
        delete(DncNumber)
        .where(DncNumber.org_id == org_id, DncNumber.number == number)
        .returning(DncNumber)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_of_numbers(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    number: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[DncNumber], int]:
    """One page of the org's entries, newest first, and how many match in all."""
    where = [DncNumber.org_id == org_id]
    if number is not None:
        where.append(DncNumber.number == number)
    total = (
        await session.execute(select(func.count()).select_from(DncNumber).where(*where))
    ).scalar_one()
    stmt = (
        select(DncNumber)
        .where(*where)
        .order_by(DncNumber.created_at.desc(), DncNumber.number)
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all(), int(total)
