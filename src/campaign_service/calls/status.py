"""Call statuses as data: Vapi's lifecycle order and the sets the engine and the reads use.

This is the only module that spells out call statuses. CHECK constraints, index predicates
and the SQL fragments of claims and reads are generated from these definitions
(`campaign_service.db.predicates`), so "in flight" or "open" means the same everywhere.

Calls only move forward: scheduled -> queued -> ringing -> in-progress -> forwarding -> ended.
A step may be skipped (a busy line goes from queued straight to ended), never taken back.
"""

from __future__ import annotations

from enum import StrEnum


class CallStatus(StrEnum):
    """Vapi's call statuses, in lifecycle order."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    FORWARDING = "forwarding"
    ENDED = "ended"


ORDER: tuple[CallStatus, ...] = tuple(CallStatus)
RANK: dict[CallStatus, int] = {status: i for i, status in enumerate(ORDER)}

# Handed to the provider and not ended: each holds a concurrency slot. A call that is being
# dialed right now (scheduled, with a lease) holds one too; see `predicates.in_flight`.
PLACED: frozenset[CallStatus] = frozenset(
    {CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING}
)
# Not ended yet: the campaign is not finished while any of its calls is open.
OPEN: frozenset[CallStatus] = frozenset(ORDER) - {CallStatus.ENDED}
# What Vapi's callsCounterInProgress counts.
COUNTED_IN_PROGRESS: frozenset[CallStatus] = frozenset(
    {CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING}
)
# A person was on the line at some point (for callMetrics.connected).
TALKING: frozenset[CallStatus] = frozenset({CallStatus.IN_PROGRESS, CallStatus.FORWARDING})


def is_forward(current: CallStatus, new: CallStatus) -> bool:
    """Whether moving from `current` to `new` goes forward in the lifecycle."""
    return RANK[new] > RANK[current]


def in_order(statuses: frozenset[CallStatus]) -> tuple[CallStatus, ...]:
    """A set of statuses in lifecycle order (stable SQL text, readable output)."""
    return tuple(s for s in ORDER if s in statuses)


class SkipReason(StrEnum):
    """Why a call was screened out right before its dial (it ends unplaced)."""

    PREDIAL_INELIGIBLE = "predial-ineligible"  # the user's server answered {"eligible": false}
    PREDIAL_FAILED = "predial-failed"  # the user's server gave no valid answer (fails closed)
    DO_NOT_CALL = "do-not-call"  # the number is on the org's do-not-call list
    # The number's time zones share no calling hours (extension: local calling hours).
    NO_CALLING_HOURS = "no-calling-hours"
