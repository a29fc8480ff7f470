"""Vapi's v2 contacts: the audience, each customer with the outcome of its call.

A contact is one customer of the audience: its first call record (same ID), and with retries
the later attempts at the same position; its status is derived from its latest attempt:
  contact.pending     - not placed yet and not being dialed;
  contact.dispatched  - being dialed, or placed and not ended;
  contact.completed   - placed, and the call ended (whatever its endedReason);
  contact.failed      - ended without being placed because the provider refused it;
  contact.skipped     - ended without being placed because the campaign was ended by the user,
                        its capacity window closed, the user's pre-dial server said it is not
                        eligible, or the number is on the do-not-call list;
  contact.predial-failed - ended without being placed because the user's pre-dial server gave
                        no valid answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED
from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.campaigns.schemas_v2 import (
    CampaignContactPaginatedResponse,
    CampaignContactWithOutcome,
    ContactListQuery,
    ContactStatus,
)
from campaign_service.db import predicates as p
from campaign_service.schema_types import PaginationMeta

CONTACT_STATUS_SQL = f"""
    CASE
      WHEN {p.waiting("k")} THEN '{ContactStatus.PENDING.value}'
      WHEN NOT {p.status_is("k.status", CallStatus.ENDED)} THEN '{ContactStatus.DISPATCHED.value}'
      WHEN {p.status_is("k.skip_reason", SkipReason.PREDIAL_FAILED)}
        THEN '{ContactStatus.PREDIAL_FAILED.value}'
      WHEN k.skip_reason IS NOT NULL THEN '{ContactStatus.SKIPPED.value}'
      WHEN k.started_at IS NOT NULL THEN '{ContactStatus.COMPLETED.value}'
      WHEN k.ended_reason IN ('{CANCELLED_BEFORE_PLACED}', '{CAPACITY_WINDOW_CLOSED}')
        THEN '{ContactStatus.SKIPPED.value}'
      ELSE '{ContactStatus.FAILED.value}'
    END"""

# A contact is one position of the audience; with retries it has several call records
# (attempts), and its latest attempt carries its outcome.
SAME_CONTACT = "a.campaign_id = k.campaign_id AND a.position = k.position"


# SQL: the call `k` is its contact's latest attempt. A later attempt exists only for an ended
# call of a campaign with a retry plan (needs the campaign as `c`), so the lookup (an index
# probe per row) is made only for those.
LATEST_ATTEMPT = f"""(NOT {p.status_is("k.status", CallStatus.ENDED)} OR c.retry_plan IS NULL
    OR NOT EXISTS (SELECT 1 FROM calls a WHERE {SAME_CONTACT}
                   AND a.attempt_number > k.attempt_number))"""


_STATUS_ORDER = p.quoted(ContactStatus)


async def contacts_page(
    session: AsyncSession, *, campaign_id: uuid.UUID, query: ContactListQuery
) -> CampaignContactPaginatedResponse:
    wanted = [s.value for s in query.status] if query.status else None
    order = (
        f"array_position(ARRAY[{_STATUS_ORDER}], s.status), k.position"
        if query.sortBy == "status"
        else "k.position"
    )
    base = f"""
        FROM calls k JOIN campaigns c ON c.id = k.campaign_id
        CROSS JOIN LATERAL (SELECT {CONTACT_STATUS_SQL} AS status) s
        WHERE k.campaign_id = :campaign AND {LATEST_ATTEMPT}
          AND (CAST(:wanted AS text[]) IS NULL OR s.status = ANY(CAST(:wanted AS text[])))
    """
    params: dict[str, Any] = {"campaign": campaign_id, "wanted": wanted}
    total = (await session.execute(text(f"SELECT count(*) {base}"), params)).scalar_one()
    rows = await session.execute(
        text(
            f"""
            SELECT k.id, COALESCE(k.contact_id, k.id) AS contact_id, k.attempt_number,
                   k.customer, k.ended_reason, k.started_at, s.status,
                   CASE WHEN {p.waiting("k")} THEN k.next_attempt_at END AS callable_at {base}
            ORDER BY {order} LIMIT :limit OFFSET :offset
            """
        ),
        {**params, "limit": query.limit, "offset": (query.page - 1) * query.limit},
    )
    return CampaignContactPaginatedResponse(
        results=[_contact(row) for row in rows],
        metadata=PaginationMeta.for_page(
            total=int(total), page=query.page, limit=query.limit, sort_order="ASC"
        ),
    )


def _contact(row: Any) -> CampaignContactWithOutcome:
    dispatched: datetime | None = row.started_at
    return CampaignContactWithOutcome(
        id=str(row.contact_id),
        number=row.customer.get("number") or row.customer.get("sipUri") or "",
        status=ContactStatus(row.status),
        name=row.customer.get("name"),
        callId=str(row.id) if dispatched is not None else None,
        dispatchedAt=dispatched,
        endedReason=row.ended_reason,
        attempts=row.attempt_number,
        callableAt=row.callable_at,
    )
