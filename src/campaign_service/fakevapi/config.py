"""What a fake Vapi is started with: its orgs (one per API key), timings and outcome mix."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from campaign_service.calls.ended_reasons import ENDED_REASONS

# Outcome weights by endedReason when none are configured: mostly answered calls, some missed.
DEFAULT_OUTCOMES: Mapping[str, float] = {
    "customer-ended-call": 40,
    "assistant-ended-call": 25,
    "voicemail": 15,
    "customer-did-not-answer": 12,
    "customer-busy": 8,
}

# Org IDs derived from keys are stable, so a restarted fake keeps the same org per key.
_ORG_NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4d8b-9a57-0c2f4b7e8a11")


@dataclass(frozen=True)
class FakeOrg:
    """One Vapi org, reached with one private API key."""

    api_key: str
    concurrency_limit: int = 10
    org_id: str = ""
    server_url: str | None = None

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("an org needs a non-empty API key")
        if self.concurrency_limit < 1:
            raise ValueError("an org's concurrency limit must be at least 1")
        if not self.org_id:
            object.__setattr__(self, "org_id", str(uuid.uuid5(_ORG_NAMESPACE, self.api_key)))


@dataclass(frozen=True)
class Timings:
    """How long each stage of a call lasts, in seconds ((min, max) ranges are drawn per call)."""

    queued_seconds: float = 0.5
    ring_seconds: tuple[float, float] = (1.0, 4.0)
    talk_seconds: tuple[float, float] = (3.0, 20.0)

    def __post_init__(self) -> None:
        if self.queued_seconds < 0:
            raise ValueError("queued_seconds must not be negative")
        for name in ("ring_seconds", "talk_seconds"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be a range [min, max] with 0 <= min <= max")


@dataclass(frozen=True)
class FakeVapiConfig:
    """Everything a fake Vapi needs. `None` id sets mean any id is accepted."""

    orgs: tuple[FakeOrg, ...] = (FakeOrg("fake-vapi-key"),)
    server_url: str | None = None
    server_secret: str | None = None
    seed: int | None = None
    timings: Timings = field(default_factory=Timings)
    outcomes: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_OUTCOMES))
    assistant_ids: frozenset[str] | None = None
    squad_ids: frozenset[str] | None = None
    workflow_ids: frozenset[str] | None = None
    phone_number_ids: frozenset[str] | None = None
    # Vapi's documents do not say whether a call refused for concurrency is reported to the
    # server URL; reporting it is the harder case for a client, so it is the default.
    report_blocked_calls: bool = True
    # How POST /call answers when the org has no free call slot: today's Vapi creates the call
    # ended with the concurrency endedReason and `subscriptionLimits.concurrencyBlocked: true`
    # (201); earlier Vapi answered 400 "Over Concurrency Limit.".
    concurrency_answer: Literal["blocked-call", "bad-request"] = "blocked-call"
    webhook_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise ValueError("the outcome mix needs at least one endedReason")
        for reason, weight in self.outcomes.items():
            if reason not in ENDED_REASONS:
                raise ValueError(f"unknown endedReason {reason!r} in the outcome mix")
            if weight < 0:
                raise ValueError(f"outcome weight of {reason!r} must not be negative")
        if sum(self.outcomes.values()) <= 0:
            raise ValueError("the outcome weights must not all be zero")
        keys = [org.api_key for org in self.orgs]
        if len(set(keys)) != len(keys):
            raise ValueError("each API key may belong to one org only")
