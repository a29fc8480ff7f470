"""The telephony provider interface: what the engine needs from a phone network.

A provider does two things:

1. `place_call(request)` asks the network to dial one customer. It returns the provider's call ID
   once the call is accepted, or raises `NoCapacity` (try again later) or `CallRejected` (this
   call will never be placed; it ends with the given endedReason). Any other exception means the
   outcome is unknown: the engine keeps the call's lease and, when it expires, places the call
   again with the same idempotency key.
2. It reports what happens to its calls afterwards (ringing, answered, ended...) as
   `StatusReport`s given to the `StatusReportSink` passed to `start()`. Reports may arrive late,
   twice or out of order; the engine ignores any that would move a call backwards.

The contract that makes crashes safe: placing a call twice with the same `idempotency_key` must
not dial twice; the second request returns the first call's ID. `find_call(request)` answers
whether a call was placed with that key, without dialing (the engine asks before it decides
not to place a call whose earlier attempt has an unknown outcome). `tests/contract/` runs the same
conformance tests against every provider.

These types import no SQL: a provider never touches the engine's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from campaign_service.calls.ended_reasons import require_known
from campaign_service.calls.status import CallStatus


@dataclass(frozen=True)
class PlaceCallRequest:
    """Everything needed to dial one customer of a campaign."""

    idempotency_key: str
    call_id: uuid.UUID
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    phone_number_id: str
    customer: dict[str, Any]
    assistant_id: str | None = None
    workflow_id: str | None = None
    squad_id: str | None = None
    assistant_overrides: dict[str, Any] = field(default_factory=dict)
    squad_overrides: dict[str, Any] = field(default_factory=dict)
    # 1 for the first attempt; more when an earlier attempt's outcome was never learned (the
    # dispatcher died, or the provider did not answer), so that attempt may have dialed.
    attempt: int = 1
    # When the earliest attempt whose outcome was never learned started (None when every
    # earlier attempt is known to have placed nothing): a provider without idempotency keys
    # looks for a call created since then before it dials again.
    previous_attempt_at: datetime | None = None


@dataclass(frozen=True)
class StatusReport:
    """What a provider says happened to one of its calls (a status change)."""

    call_id: uuid.UUID
    status: CallStatus
    ended_reason: str | None = None
    provider_call_id: str | None = None
    occurred_at: datetime | None = None
    # What the provider said besides the status: its refusal text, the call's cost and its
    # end-of-call report. `heard` marks a report that came from the provider (a webhook or a
    # poll), not from the engine's own bookkeeping.
    provider_error: str | None = None
    cost: float | None = None
    end_report: dict[str, Any] | None = None
    heard: bool = False

    def __post_init__(self) -> None:
        if self.status is CallStatus.ENDED:
            if self.ended_reason is None:
                raise ValueError("an ended report needs an endedReason")
            require_known(self.ended_reason)
        elif self.ended_reason is not None:
            raise ValueError("only an ended report carries an endedReason")
        if self.status is CallStatus.SCHEDULED:
            raise ValueError("no report moves a call back to scheduled")


class NoCapacity(Exception):
    """The provider cannot take another call right now (concurrency or rate limit);
    `retry_after` is how many seconds it asked us to wait, if it said."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or "no capacity")
        self.retry_after = retry_after


class CallRejected(Exception):
    """The provider refused this call for good; it ends with `ended_reason`."""

    def __init__(self, ended_reason: str, message: str = "") -> None:
        super().__init__(message or ended_reason)
        self.ended_reason = require_known(ended_reason)
        self.provider_error = message or None


class ProviderAuthFailed(Exception):
    """The provider refused the org's credentials: no call of that org can be placed until
    they are fixed. Nothing was dialed."""


class OutcomeUnknown(Exception):
    """The provider may or may not have placed the call (a timeout, a 5xx, a lookup that
    could not be made): the engine keeps the lease and looks the call up before any new dial."""


StatusReportSink = Callable[[Sequence[StatusReport]], Awaitable[None]]
"""Where a provider delivers its reports; the engine applies them in one transaction."""


class TelephonyProvider(Protocol):
    name: str

    async def start(self, sink: StatusReportSink) -> None:
        """Begin delivering reports (open webhooks, start pumps). Called once."""

    async def stop(self) -> None:
        """Stop delivering reports and release resources."""

    async def place_call(self, request: PlaceCallRequest) -> str:
        """Dial; return the provider's call ID. Idempotent per `request.idempotency_key`."""
        ...

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        """The provider's ID of a call placed earlier with this request's idempotency key, or
        None if it has none; never dials. Raises when the provider cannot answer."""
        ...


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Campaign-level overrides first, per-customer ones on top (nested dicts merged)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
