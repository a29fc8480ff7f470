"""The campaign state machine: which status changes are allowed and what ending means.

Every status write goes through `require_transition`, so the rules live here and nowhere else.
The engine adds its own triggers (start, finish) but uses the same table.
"""

from __future__ import annotations

from campaign_service.campaigns.schemas import CampaignEndedReason, CampaignStatus
from campaign_service.errors import BadRequest

S = CampaignStatus

TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.ENDED}),
    S.IN_PROGRESS: frozenset({S.ENDED}),
    S.ENDED: frozenset(),
}

USER_END_REASON: dict[CampaignStatus, CampaignEndedReason] = {
    S.SCHEDULED: CampaignEndedReason.SCHEDULED_ENDED_BY_USER,
    S.IN_PROGRESS: CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER,
}


def can_transition(current: CampaignStatus, target: CampaignStatus) -> bool:
    return target in TRANSITIONS[current]


def require_transition(current: CampaignStatus, target: CampaignStatus) -> None:
    """Raise a 400 naming the current status when the move is not allowed."""
    if not can_transition(current, target):
        raise BadRequest(f"campaign is {current.value} and cannot move to {target.value}")


def user_end_reason(current: CampaignStatus) -> CampaignEndedReason:
    """The endedReason for a campaign the user ends while it is in `current`."""
    if current is S.ENDED:
        raise BadRequest("campaign is ended and cannot be changed")
    return USER_END_REASON[current]


def require_config_editable(current: CampaignStatus, fields: set[str]) -> None:
    """Configuration can change only before the campaign starts dialing."""
    if fields and current is not S.SCHEDULED:
        names = ", ".join(sorted(fields))
        raise BadRequest(
            f"campaign is {current.value}; {names} can only be updated while it is scheduled"
        )
