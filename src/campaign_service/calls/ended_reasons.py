"""The call endedReason values this service understands (Vapi's full list)."""

from __future__ import annotations

from importlib import resources

ENDED_REASONS: frozenset[str] = frozenset(
    line.strip()
    for line in resources.files(__package__).joinpath("ended_reasons.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)

VOICEMAIL = "voicemail"
# The user ended the campaign before this call was placed.
CANCELLED_BEFORE_PLACED = "scheduled-call-deleted"
# The campaign's capacity window (one hour after start, or latestAt) closed before this call
# could be placed: it never got a free concurrency slot.
CAPACITY_WINDOW_CLOSED = "call.start.error-subscription-concurrency-limit-reached"


def require_known(reason: str) -> str:
    if reason not in ENDED_REASONS:
        raise ValueError(f"unknown call endedReason {reason!r}")
    return reason
