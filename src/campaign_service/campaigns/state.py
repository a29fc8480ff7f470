"""The campaign lifecycle as data: statuses, the moves allowed between them, and why.

scheduled -> in-progress -> ended -> archived, with scheduled -> ended for a campaign the user
ends before it starts. `archived` is where a deleted campaign goes: it is kept (with its
calls), but gone from get and list. It is stored as `archived_at` rather than as a status,
because Vapi's v1 Campaign still reads `ended` (its schema has three statuses).

`campaigns.lifecycle.move_campaigns` is the one writer of these moves: it checks this table
when it writes (`sources_of`), compare-and-sets, and records a history row. This module has no
SQL and no I/O.
"""

from __future__ import annotations

from enum import StrEnum

from campaign_service.errors import BadRequest


class CampaignStatus(StrEnum):
    """The status the API shows (Vapi's v1 Campaign)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    ENDED = "ended"


class CampaignStatusV2(StrEnum):
    """The status Vapi's v2 paths show: a campaign the user ended reads `cancelled` there."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    ENDED = "ended"
    CANCELLED = "cancelled"


class CampaignEndedReason(StrEnum):
    SCHEDULED_ENDED_BY_USER = "campaign.scheduled.ended-by-user"
    IN_PROGRESS_ENDED_BY_USER = "campaign.in-progress.ended-by-user"
    ENDED_SUCCESS = "campaign.ended.success"


class Stage(StrEnum):
    """A campaign's place in its lifecycle: its status, or archived (deleted)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    ENDED = "ended"
    ARCHIVED = "archived"


class Cause(StrEnum):
    """Why a campaign moved; kept on its history rows."""

    CREATED = "created"
    EARLIEST_AT_REACHED = "earliest-at-reached"
    STARTED_AT_ONCE = "started-at-once"
    ALL_CALLS_ENDED = "all-calls-ended"
    CAPACITY_WINDOW_CLOSED = "capacity-window-closed"
    ENDED_BY_USER = "ended-by-user"
    DELETED_BY_USER = "deleted-by-user"
    # Pauses (extension): the campaign stays in-progress; its history row records the pause.
    PAUSED_BY_USER = "paused-by-user"
    PAUSED_BY_BREAKER = "paused-by-breaker"
    RESUMED_BY_USER = "resumed-by-user"


class PauseSource(StrEnum):
    """Who paused a campaign: the user (API or CLI) or the engine (its breaker)."""

    USER = "user"
    ENGINE = "engine"


TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.SCHEDULED: frozenset({Stage.IN_PROGRESS, Stage.ENDED}),
    Stage.IN_PROGRESS: frozenset({Stage.ENDED}),
    Stage.ENDED: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}

USER_END_REASON: dict[Stage, CampaignEndedReason] = {
    Stage.SCHEDULED: CampaignEndedReason.SCHEDULED_ENDED_BY_USER,
    Stage.IN_PROGRESS: CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER,
}

# A sentence per cause, for the history the API shows.
DETAIL: dict[Cause, str] = {
    Cause.CREATED: "Created.",
    Cause.EARLIEST_AT_REACHED: "schedulePlan.earliestAt was reached; dialing started.",
    Cause.STARTED_AT_ONCE: "No schedulePlan: dialing started at once.",
    Cause.ALL_CALLS_ENDED: "Every call has ended.",
    Cause.CAPACITY_WINDOW_CLOSED: "The capacity window closed: calls that never got a free "
    "slot were not placed, and every placed call has ended.",
    Cause.ENDED_BY_USER: "Ended by the user; calls not yet placed were cancelled.",
    Cause.DELETED_BY_USER: "Deleted by the user; kept, but hidden from get and list.",
    Cause.PAUSED_BY_USER: "Paused by the user: no new calls are placed; calls in progress finish.",
    Cause.PAUSED_BY_BREAKER: "Paused by the engine's breaker: most recent attempts failed at "
    "the provider.",
    Cause.RESUMED_BY_USER: "Resumed by the user: dialing goes on; waiting calls get a fresh "
    "capacity window.",
}


def can_transition(current: Stage, target: Stage) -> bool:
    return target in TRANSITIONS[current]


def sources_of(target: Stage) -> tuple[Stage, ...]:
    """Every stage from which `target` may be reached (what a compare-and-set accepts)."""
    return tuple(stage for stage in Stage if can_transition(stage, target))


def require_transition(current: Stage, target: Stage) -> None:
    """Raise a 400 naming the current stage when the move is not allowed."""
    if not can_transition(current, target):
        raise BadRequest(f"campaign is {current.value} and cannot move to {target.value}")


def user_end_reason(current: Stage) -> CampaignEndedReason:
    """The endedReason for a campaign the user ends while it is in `current`."""
    if current not in USER_END_REASON:
        raise BadRequest(f"campaign is {current.value} and cannot be changed")
    return USER_END_REASON[current]


def require_config_editable(current: CampaignStatus, fields: set[str]) -> None:
    """Configuration can change only before the campaign starts dialing."""
    if fields and current is not CampaignStatus.SCHEDULED:
        names = ", ".join(sorted(fields))
        raise BadRequest(
            f"campaign is {current.value}; {names} can only be updated while it is scheduled"
        )


def require_pausable(current: CampaignStatus, *, paused: bool) -> None:
    """Only a running campaign that is not paused yet can be paused."""
    if current is not CampaignStatus.IN_PROGRESS:
        raise BadRequest(f"campaign is {current.value}; only an in-progress campaign can be paused")
    if paused:
        raise BadRequest("campaign is already paused")


def require_resumable(current: CampaignStatus, *, paused: bool) -> None:
    """Only a paused (hence running) campaign can be resumed."""
    if current is CampaignStatus.ENDED:
        raise BadRequest("campaign is ended and cannot be resumed")
    if not paused:
        raise BadRequest("campaign is not paused")


def v2_status(status: str, ended_reason: str | None) -> CampaignStatusV2:
    """What the v2 paths call a campaign's status (v1 keeps `ended` with its reason)."""
    if ended_reason in {r.value for r in USER_END_REASON.values()}:
        return CampaignStatusV2.CANCELLED
    return CampaignStatusV2(status)
