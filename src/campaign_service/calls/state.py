"""The call state machine: statuses only move forward along Vapi's lifecycle.

scheduled -> queued -> ringing -> in-progress -> forwarding -> ended. A step may be skipped
(a busy line goes from queued straight to ended), but never taken back, so a duplicate or
late event is simply ignored.
"""

from __future__ import annotations

from campaign_service.calls.schemas import CallStatus

ORDER: tuple[CallStatus, ...] = (
    CallStatus.SCHEDULED,
    CallStatus.QUEUED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
    CallStatus.FORWARDING,
    CallStatus.ENDED,
)
RANK = {status: i for i, status in enumerate(ORDER)}
# Calls that hold a concurrency slot (placed with the provider, not ended).
IN_FLIGHT: frozenset[CallStatus] = frozenset(
    {CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING}
)


def is_forward(current: CallStatus, new: CallStatus) -> bool:
    """Whether moving from `current` to `new` goes forward in the lifecycle."""
    return RANK[new] > RANK[current]
