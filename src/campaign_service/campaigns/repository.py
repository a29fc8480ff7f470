"""Every statement that writes the `campaigns` and `campaign_events` tables, and the reads
that find campaigns. Queries made for a user are scoped to that user's org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CAPACITY_WINDOW_CLOSED
from campaign_service.campaigns.state import CampaignStatus, Stage
from campaign_service.db import outbox
from campaign_service.db import predicates as p
from campaign_service.db.models import Campaign

RUNNING = CampaignStatus.IN_PROGRESS.value


async def get_campaign(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    campaign_id: uuid.UUID,
    for_update: bool = False,
) -> Campaign | None:
    """A live (not archived) campaign of this org (of any org with None: the CLI's)."""
    stmt = select(Campaign).where(Campaign.id == campaign_id, Campaign.archived_at.is_(None))
    if org_id is not None:
        stmt = stmt.where(Campaign.org_id == org_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def insert_campaign(session: AsyncSession, values: dict[str, Any]) -> Campaign:
    stmt = insert(Campaign).values(**values).returning(Campaign)
    campaign: Campaign = (await session.execute(stmt)).scalar_one()
    return campaign


async def update_config(
    session: AsyncSession, *, campaign_id: uuid.UUID, values: dict[str, Any]
) -> Campaign:
    """Write configuration columns (never the status: see `lifecycle`); the updated row."""
    stmt = (
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(**values)
        .returning(Campaign)
        .execution_options(populate_existing=True)
    )
    campaign: Campaign = (await session.execute(stmt)).scalar_one()
    return campaign


# ---- what the engine moves ----

_STAGE_SQL = f"CASE WHEN archived_at IS NOT NULL THEN '{Stage.ARCHIVED.value}' ELSE status END"


async def due_to_start(session: AsyncSession, *, now: datetime) -> list[tuple[uuid.UUID, bool]]:
    """Scheduled campaigns whose start time has come, as (id, has a schedulePlan)."""
    rows = await session.execute(
        text(
            f"""
            SELECT id, has_schedule_plan FROM campaigns
            WHERE status = '{CampaignStatus.SCHEDULED.value}' AND archived_at IS NULL
              AND (NOT has_schedule_plan OR earliest_at <= :now)
            """
        ),
        {"now": now},
    )
    return [(r.id, r.has_schedule_plan) for r in rows]


async def with_every_call_ended(session: AsyncSession) -> list[tuple[uuid.UUID, bool]]:
    """In-progress campaigns that have no open call left, as (id, whether some of their calls
    were never placed because the capacity window closed)."""
    rows = await session.execute(
        text(
            f"""
            SELECT c.id, EXISTS (SELECT 1 FROM calls k WHERE k.campaign_id = c.id
                                 AND k.ended_reason = :window_closed) AS window_closed
            FROM campaigns c
            WHERE c.status = '{CampaignStatus.IN_PROGRESS.value}'
              AND NOT EXISTS (SELECT 1 FROM calls k
                              WHERE k.campaign_id = c.id AND {p.is_open("k")})
            """
        ),
        {"window_closed": CAPACITY_WINDOW_CLOSED},
    )
    return [(r.id, r.window_closed) for r in rows]


# ---- lifecycle moves and their history ----


@dataclass(frozen=True)
class Moved:
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    from_stage: Stage


_MOVE = f"""
    WITH target AS (
        SELECT id, {_STAGE_SQL} AS stage FROM campaigns
        WHERE id = ANY(:ids) AND ({_STAGE_SQL}) = ANY(:sources)
        ORDER BY id FOR UPDATE
    ), moved AS (
        UPDATE campaigns c SET {{assignments}}, updated_at = :now
        FROM target t WHERE c.id = t.id
        RETURNING c.id, c.org_id, t.stage, c.status, c.ended_reason
    ), logged AS (
        INSERT INTO campaign_events (campaign_id, from_stage, to_stage, ended_reason, cause,
                                     source, created_at)
        SELECT id, stage, :to, :reason, :cause, :source, :now FROM moved
    ), {outbox.campaign_events("outboxed", "moved")}
    SELECT id, org_id, stage FROM moved
"""

_ASSIGNMENTS: dict[Stage, str] = {
    Stage.IN_PROGRESS: f"status = '{CampaignStatus.IN_PROGRESS.value}', started_at = :now",
    Stage.ENDED: f"status = '{CampaignStatus.ENDED.value}', ended_reason = :reason, "
    "ended_at = :now",
    Stage.ARCHIVED: "archived_at = :now",
}
_MOVES = {stage: text(_MOVE.replace("{assignments}", sql)) for stage, sql in _ASSIGNMENTS.items()}


async def move(
    session: AsyncSession,
    *,
    campaign_ids: Sequence[uuid.UUID],
    sources: Sequence[Stage],
    target: Stage,
    ended_reason: str | None,
    cause: str,
    source: str,
    now: datetime,
    event: str | None = None,
) -> list[Moved]:
    """Compare-and-set: move the campaigns that are in one of `sources` to `target`, each with
    its history row, in one statement. Campaigns in any other stage are left alone."""
    if not campaign_ids:
        return []
    rows = await session.execute(
        _MOVES[target],
        {
            "ids": list(campaign_ids),
            "sources": [s.value for s in sources],
            "to": target.value,
            "reason": ended_reason,
            "cause": cause,
            "source": source,
            "now": now,
            "event": event,
        },
    )
    return [Moved(r.id, r.org_id, Stage(r.stage)) for r in rows]


async def record_created(
    session: AsyncSession, *, campaign_id: uuid.UUID, source: str, cause: str, now: datetime
) -> None:
    """The first history row of a new campaign."""
    await session.execute(
        text(
            """
            INSERT INTO campaign_events (campaign_id, from_stage, to_stage, cause, source,
                                         created_at)
            VALUES (:id, NULL, :to, :cause, :source, :now)
            """
        ),
        {
            "id": campaign_id,
            "to": Stage.SCHEDULED.value,
            "cause": cause,
            "source": source,
            "now": now,
        },
    )


# ---- pauses (extension): the campaign stays in-progress, flagged, with a history row ----

_PAUSE = text(
    f"""
    WITH target AS (
        SELECT id FROM campaigns WHERE id = :id AND status = '{RUNNING}' AND paused_at IS NULL
        FOR UPDATE
    ), paused AS (
        UPDATE campaigns c SET paused_at = :now, paused_by = :source, pause_reason = :reason,
                               updated_at = :now
        FROM target t WHERE c.id = t.id
        RETURNING c.id
    ), logged AS (
        INSERT INTO campaign_events (campaign_id, from_stage, to_stage, cause, source, reason,
                                     created_at)
        SELECT id, '{RUNNING}', '{RUNNING}', :cause, :source, :reason, :now FROM paused
    )
    SELECT count(*) FROM paused
    """
)

_RESUME = text(
    f"""
    WITH target AS (
        SELECT id FROM campaigns
        WHERE id = :id AND status = '{RUNNING}' AND paused_at IS NOT NULL
        FOR UPDATE
    ), resumed AS (
        UPDATE campaigns c SET paused_at = NULL, paused_by = NULL, pause_reason = NULL,
                               resumed_at = :now, updated_at = :now
        FROM target t WHERE c.id = t.id
        RETURNING c.id
    ), logged AS (
        INSERT INTO campaign_events (campaign_id, from_stage, to_stage, cause, source, reason,
                                     created_at)
        SELECT id, '{RUNNING}', '{RUNNING}', :cause, :source, :reason, :now FROM resumed
    )
    SELECT count(*) FROM resumed
    """
)


async def set_paused(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    paused: bool,
    cause: str,
    source: str,
    reason: str | None,
    now: datetime,
) -> bool:
    """Compare-and-set the pause flag of a running campaign, with its history row; False
    when the campaign was not running or already in the state asked for."""
    result = await session.execute(
        _PAUSE if paused else _RESUME,
        {"id": campaign_id, "cause": cause, "source": source, "reason": reason, "now": now},
    )
    return bool(result.scalar_one())
