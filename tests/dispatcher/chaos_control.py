"""The campaign-control part of the crash chaos (see chaos.py): campaigns that run with a
retry plan and calling hours, and what must hold for them whatever is killed."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.calls.outcomes import retry_reasons

CONTROL = "control"
RETRY_PLAN: dict[str, Any] = {
    "retryOn": ["no-answer", "busy", "failed-to-connect"],
    "maxAttempts": 3,
    "delay": {"type": "fixed", "seconds": 1},
}
RETRIED = retry_reasons(RETRY_PLAN["retryOn"])
# The first controlled campaign is released this long before its calling hours close (a
# whole minute of the UTC wall clock), and its latestAt follows the close by this much.
OPEN_BEFORE_CLOSE = timedelta(seconds=15)
LATEST_AFTER_CLOSE = timedelta(seconds=8)


def planned(plan: Any) -> bool:
    return any(CONTROL in spec[2:] for _, specs in plan.orgs for spec in specs)


def closing_minute() -> datetime:
    """The first whole minute far enough ahead to seed and start the workers first (and not
    midnight, which cannot end a window that starts at 00:00)."""
    at = datetime.now(UTC) + timedelta(seconds=25)
    at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return at + timedelta(minutes=1) if at.hour == at.minute == 0 else at


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def closed(closes_at: datetime | None) -> bool:
    return closes_at is not None and datetime.now(UTC) >= closes_at


def settings(spec: tuple[Any, ...], closes_at: datetime | None) -> dict[str, Any]:
    """A retry plan and calling hours (UTC wall clock) for a "control" campaign: open all day,
    or until `closes_at` for the first one (its latestAt is set at release)."""
    if CONTROL not in spec[2:]:
        return {}
    end = "23:59" if closes_at is None else closes_at.strftime("%H:%M")
    controls: dict[str, Any] = {
        "retryPlan": RETRY_PLAN,
        "callingWindow": {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": end,
            "fallbackTimeZone": "UTC",
        },
    }
    if closes_at is not None:
        far = {"earliestAt": "2100-01-01T00:00:00Z", "latestAt": "2100-01-01T01:00:00Z"}
        controls["schedulePlan"] = far
    return controls


def customers(prefix: str, count: int, controlled: bool) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"number": f"+1415{prefix}{n:05d}"} for n in range(count)]
    if controlled:  # half name their zone; the others fall back to the campaign's
        for customer in found[::2]:
            customer["timeZone"] = "UTC"
    return found


async def windowed(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID | None:
    """The campaign whose calling hours close mid-run."""
    async with sessions() as session:
        found = await session.execute(text("SELECT id FROM campaigns WHERE latest_at IS NOT NULL"))
        return found.scalar_one_or_none()


def check_cut(
    network: dict[Any, Any], calls: set[uuid.UUID], snapshot: dict[str, Any], what: str
) -> list[str]:
    """Every call the network got for the campaign after the snapshot was on the wire at it:
    leased then, and reached the network by that very attempt."""
    violations = []
    for call_id in calls & set(network):
        if call_id in snapshot["existing"]:
            continue
        attempts_then = snapshot["leased"].get(call_id)
        if attempts_then is None or network[call_id].attempt != attempts_then:
            violations.append(f"call {call_id} {what}")
    return violations


async def check_attempts(
    sessions: async_sessionmaker[AsyncSession], calls: list[Any], *, ended_by_user: Any
) -> list[str]:
    """Attempts at each contact of the controlled campaigns are 1..n without gaps, n at most
    maxAttempts; each later attempt follows a retried outcome, and (unless the user ended the
    campaign, which stops retries) every retried outcome below the maximum got its retry."""
    async with sessions() as session:
        found = await session.execute(text("SELECT id FROM campaigns WHERE retry_plan IS NOT NULL"))
        controlled = set(found.scalars())
    if not controlled:
        return ["no campaign ran with a retry plan"]
    contacts: dict[tuple[Any, int], dict[int, Any]] = defaultdict(dict)
    for call in calls:
        if call.campaign_id in controlled:
            contacts[(call.campaign_id, call.position)][call.attempt_number] = call
    violations: list[str] = []
    retried = 0
    for (campaign_id, position), attempts in contacts.items():
        numbers = sorted(attempts)
        where = f"campaign {campaign_id} contact {position}"
        if numbers != list(range(1, len(numbers) + 1)) or len(numbers) > RETRY_PLAN["maxAttempts"]:
            violations.append(f"{where}: attempts {numbers}")
            continue
        for n in numbers[:-1]:
            if attempts[n].ended_reason not in RETRIED:
                violations.append(f"{where}: attempt {n + 1} after {attempts[n].ended_reason}")
        retried += len(numbers) - 1
        last = attempts[numbers[-1]]
        if (
            campaign_id != ended_by_user
            and last.ended_reason in RETRIED
            and last.started_at is not None
            and numbers[-1] < RETRY_PLAN["maxAttempts"]
        ):
            violations.append(f"{where}: {last.ended_reason} at attempt {numbers[-1]} not retried")
    if not retried:
        violations.append("no contact was retried: the retry checks proved nothing")
    return violations
