"""Vapi's server messages, applied: `status-update` and `end-of-call-report` become status
reports on the org's calls, through the one path every report takes
(`calls.repository.apply_status_reports`), so duplicates and reordering are harmless."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.telephony.vapi import status_report
from campaign_service.telephony.vapi_reports import report_from_server_message

SOURCE = "vapi-webhook"


async def apply_server_message(
    session: AsyncSession, *, org_id: uuid.UUID, payload: Mapping[str, Any], now: datetime
) -> bool:
    """Apply one server message of the org; False when it says nothing about a call of
    this org (another message type, an unknown call)."""
    report = report_from_server_message(payload)
    if report is None:
        return False
    found = await calls.calls_by_provider_ids(
        session, org_id=org_id, wanted=[(report.vapi_call_id, report.call_id)]
    )
    call_id = found.get(report.vapi_call_id)
    if call_id is None:
        return False
    changes = await calls.apply_status_reports(
        session, [status_report(call_id, report)], source=SOURCE, now=now
    )
    return bool(changes)
