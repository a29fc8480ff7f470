"""Why a campaign places no call (the progress report's `blockedBy`), from facts the read
model gathered. Pure: no SQL, no clock of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from campaign_service.campaigns.schemas_progress import BlockedBy, Blocker
from campaign_service.campaigns.state import CampaignStatus, PauseSource
from campaign_service.timeutil import iso_z


@dataclass(frozen=True)
class Held:
    """Waiting calls held back for one reason, and the first moment one of them is free."""

    calls: int = 0
    until: datetime | None = None

    def add(self, calls: int, until: datetime | None) -> Held:
        firsts = [t for t in (self.until, until) if t is not None]
        return Held(self.calls + calls, min(firsts) if firsts else None)


@dataclass(frozen=True)
class Facts:
    status: CampaignStatus
    now: datetime
    earliest_at: datetime | None = None
    ended_reason: str | None = None
    paused_at: datetime | None = None
    paused_by: str | None = None
    pause_reason: str | None = None
    waiting: int = 0
    callable: int = 0
    in_flight: int = 0
    max_concurrency: int = 1
    org_limit: int = 1
    org_usage: list[tuple[str, str, int]] = field(default_factory=list)  # id, name, busy
    outside_hours: Held = Held()
    retry_pending: Held = Held()
    no_capacity: Held = Held()


def blocked_by(facts: Facts) -> list[BlockedBy]:
    """Every reason that holds dialing back now, most fundamental first."""
    if facts.status is CampaignStatus.SCHEDULED:
        at = facts.earliest_at or facts.now
        return [
            BlockedBy(
                reason=Blocker.WAITING_FOR_EARLIEST_AT,
                message=f"Waiting for schedulePlan.earliestAt at {iso_z(at)}.",
                until=at,
            )
        ]
    if facts.status is CampaignStatus.ENDED:
        return [BlockedBy(reason=Blocker.ENDED, message=f"Ended ({facts.ended_reason}).")]
    reasons = [*_paused(facts), *_held(facts), *_limits(facts)]
    if facts.waiting == 0 and facts.in_flight:
        reasons.append(
            BlockedBy(
                reason=Blocker.ALL_PLACED,
                message=f"Every call has been placed; {facts.in_flight} still in progress.",
            )
        )
    return reasons


def _paused(facts: Facts) -> list[BlockedBy]:
    if facts.paused_at is None:
        return []
    by_engine = facts.paused_by == PauseSource.ENGINE
    who = "the breaker" if by_engine else "the user"
    why = f" because {facts.pause_reason}" if facts.pause_reason else ""
    return [
        BlockedBy(
            reason=Blocker.PAUSED_BY_BREAKER if by_engine else Blocker.PAUSED_BY_USER,
            message=f"Paused by {who} at {iso_z(facts.paused_at)}{why}.",
            since=facts.paused_at,
        )
    ]


def _held(facts: Facts) -> list[BlockedBy]:
    kinds = (
        (Blocker.OUTSIDE_CALLING_HOURS, facts.outside_hours, "are outside calling hours"),
        (Blocker.RETRY_PENDING, facts.retry_pending, "wait for their retry delay"),
        (
            Blocker.PROVIDER_NO_CAPACITY,
            facts.no_capacity,
            "wait for a retry after the provider reported no capacity",
        ),
    )
    return [
        BlockedBy(
            reason=reason,
            message=f"{held.calls} calls {what}"
            + (f" until {iso_z(held.until)} (the first)." if held.until else "."),
            until=held.until,
            calls=held.calls,
        )
        for reason, held, what in kinds
        if held.calls
    ]


def _limits(facts: Facts) -> list[BlockedBy]:
    if not facts.callable or facts.paused_at is not None:
        return []
    reasons = []
    if facts.in_flight >= facts.max_concurrency:
        reasons.append(
            BlockedBy(
                reason=Blocker.CAMPAIGN_CONCURRENCY_LIMIT,
                message=f"maxConcurrency {facts.in_flight}/{facts.max_concurrency} in use; "
                f"{facts.callable} calls wait for a slot.",
                calls=facts.callable,
            )
        )
    org_busy = sum(busy for _, _, busy in facts.org_usage)
    if org_busy >= facts.org_limit:
        users = ", ".join(f"{name} ({busy})" for _, name, busy in facts.org_usage)
        reasons.append(
            BlockedBy(
                reason=Blocker.ORG_CONCURRENCY_LIMIT,
                message=f"Organization concurrency limit {org_busy}/{facts.org_limit} used by "
                f"campaigns {users}; {facts.callable} calls wait for a slot.",
                calls=facts.callable,
                campaignIds=[campaign_id for campaign_id, _, _ in facts.org_usage],
            )
        )
    return reasons
