"""The telephony provider interface: what the engine needs from a phone network.

A provider does two things:

1. `place_call(request)` asks the network to dial one customer. It returns the provider's call ID
   once the call is accepted, or raises `NoCapacity` (try again later) or `CallRejected` (this
   call will never be placed; it ends with the given endedReason). Any other exception means the
   outcome is unknown: the engine keeps the call's lease and, when it expires, places the call
   again with the same idempotency key.
2. It reports what happens to its calls afterwards (ringing, answered, ended...) as `CallEvent`s
   given to the `CallEventSink` passed to `start()`. Events may arrive late, twice or out of
   order; the engine ignores any that would move a call backwards.

The contract that makes crashes safe: placing a call twice with the same `idempotency_key` must
not dial twice; the second request returns the first call's ID.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from campaign_service.calls.events import CallEvent


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


class NoCapacity(Exception):
    """The provider cannot take another call right now (concurrency or rate limit)."""


class CallRejected(Exception):
    """The provider refused this call for good; it ends with `ended_reason`."""

    def __init__(self, ended_reason: str, message: str = "") -> None:
        super().__init__(message or ended_reason)
        self.ended_reason = ended_reason


CallEventSink = Callable[[Sequence[CallEvent]], Awaitable[None]]
"""Where a provider delivers its events; the engine applies them in one transaction."""


class TelephonyProvider(Protocol):
    name: str

    async def start(self, sink: CallEventSink) -> None:
        """Begin delivering events (open webhooks, start pumps). Called once."""

    async def stop(self) -> None:
        """Stop delivering events and release resources."""

    async def place_call(self, request: PlaceCallRequest) -> str:
        """Dial; return the provider's call ID. Idempotent per `request.idempotency_key`."""
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
