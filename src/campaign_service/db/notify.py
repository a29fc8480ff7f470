"""The wake-up channel of the dispatchers: a NOTIFY sent when new work or free capacity
appears (a campaign created, started or ended, a call ended). Polling covers a lost one."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DISPATCH_CHANNEL = "campaign_service_dispatch"

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def notify_dispatchers(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Wake the dispatchers when this transaction commits (delivered once per payload)."""
    await session.execute(_NOTIFY, {"channel": DISPATCH_CHANNEL, "payload": str(org_id)})


def wake_sql(org_id_column: str) -> str:
    """SQL: the same wake-up as `notify_dispatchers`, for the org in `org_id_column`, to
    send from inside a statement (no round trip of its own)."""
    return f"pg_notify('{DISPATCH_CHANNEL}', CAST({org_id_column} AS text))"


SETTINGS_CHANGED = "settings:"


async def notify_settings_changed(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Wake the dispatchers at commit and tell them this org's provider settings changed (they
    drop what they cached of them)."""
    await session.execute(
        _NOTIFY, {"channel": DISPATCH_CHANNEL, "payload": f"{SETTINGS_CHANGED}{org_id}"}
    )
