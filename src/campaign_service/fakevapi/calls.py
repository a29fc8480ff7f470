"""The fake's calls: what it stores per call, how a call unfolds, and the GET /call filters."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from campaign_service.calls.status import CallStatus
from campaign_service.fakevapi.config import Timings

# Vapi statuses of a call that holds one of the org's call slots.
ACTIVE_STATUSES = frozenset(
    {CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING}
)

# Failures before the phone rings (the network refused the call) and misses after it rang.
_NEVER_RINGS = frozenset(
    {
        "customer-busy",
        "twilio-failed-to-connect-call",
        "twilio-reported-customer-misdialed",
        "vonage-failed-to-connect-call",
        "vonage-rejected",
        "sip-outbound-unallocated-number",
        "call.in-progress.error-sip-outbound-call-failed-to-connect",
    }
)
_RINGS_UNANSWERED = frozenset(
    {
        "customer-did-not-answer",
        "call.in-progress.error-providerfault-outbound-sip-408-request-timeout",
        "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable",
    }
)


@dataclass
class FakeCall:
    """One call as the fake knows it; `request` is the create body as it was sent."""

    id: str
    org_id: str
    request: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    base_url: str
    status: CallStatus = CallStatus.QUEUED
    blocked: bool = False
    ended_reason: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cost: float = 0.0
    talk_seconds: float = 0.0

    @property
    def customer(self) -> dict[str, Any]:
        customer: dict[str, Any] = self.request.get("customer") or {}
        return customer

    @property
    def customer_number(self) -> str | None:
        number = self.customer.get("number") or self.customer.get("sipUri")
        return str(number) if number is not None else None

    @property
    def metadata(self) -> Mapping[str, Any]:
        overrides = self.request.get("assistantOverrides") or {}
        metadata = overrides.get("metadata") if isinstance(overrides, dict) else None
        return metadata if isinstance(metadata, dict) else {}

    @property
    def campaign_tag(self) -> str | None:
        value = self.metadata.get("campaignId")
        return str(value) if value is not None else None

    @property
    def call_tag(self) -> str | None:
        value = self.metadata.get("callId")
        return str(value) if value is not None else None

    @property
    def active(self) -> bool:
        return not self.blocked and self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Step:
    """After `delay` seconds the call moves to `status` (ended ones carry the reason)."""

    delay: float
    status: CallStatus
    ended_reason: str | None = None


def draw_outcome(rng: random.Random, outcomes: Mapping[str, float]) -> str:
    reasons = list(outcomes)
    return rng.choices(reasons, weights=[outcomes[r] for r in reasons])[0]


def stages_of(reason: str) -> Literal["never-rings", "rings", "answered"]:
    """How a call with this outcome unfolds; start errors end it before it rings."""
    if reason in _NEVER_RINGS or reason.startswith(("call.start.", "call-start-")):
        return "never-rings"
    if reason in _RINGS_UNANSWERED:
        return "rings"
    return "answered"


def plan_call(rng: random.Random, reason: str, timings: Timings) -> list[Step]:
    """The steps of one call after it was queued, ending with `reason`."""
    queued = timings.queued_seconds
    stages = stages_of(reason)
    if stages == "never-rings":
        return [Step(queued, CallStatus.ENDED, reason)]
    ring = rng.uniform(*timings.ring_seconds)
    if stages == "rings":
        return [Step(queued, CallStatus.RINGING), Step(ring, CallStatus.ENDED, reason)]
    talk = rng.uniform(*timings.talk_seconds)
    return [
        Step(queued, CallStatus.RINGING),
        Step(ring, CallStatus.IN_PROGRESS),
        Step(talk, CallStatus.ENDED, reason),
    ]


@dataclass(frozen=True)
class CallQuery:
    """GET /call's filters; bounds are (operator, instant) pairs such as ("gt", t)."""

    id: str | None = None
    assistant_id: str | None = None
    phone_number_id: str | None = None
    limit: int = 100
    created: tuple[tuple[str, datetime], ...] = ()
    updated: tuple[tuple[str, datetime], ...] = ()

    def matches(self, call: FakeCall) -> bool:
        request = call.request
        if self.id is not None and call.id != self.id:
            return False
        if self.assistant_id is not None and request.get("assistantId") != self.assistant_id:
            return False
        if self.phone_number_id is not None and request.get("phoneNumberId") != (
            self.phone_number_id
        ):
            return False
        return _within(call.created_at, self.created) and _within(call.updated_at, self.updated)


def _within(value: datetime, bounds: tuple[tuple[str, datetime], ...]) -> bool:
    checks = {
        "gt": lambda b: value > b,
        "lt": lambda b: value < b,
        "ge": lambda b: value >= b,
        "le": lambda b: value <= b,
    }
    return all(checks[op](bound) for op, bound in bounds)


@dataclass
class CallBook:
    """Every call the fake created, per org. Mutated only under the fake's lock."""

    calls: dict[str, FakeCall] = field(default_factory=dict)
    per_number: Counter[tuple[str, str]] = field(default_factory=Counter)
    active: Counter[str] = field(default_factory=Counter)

    def next_ordinal(self, org_id: str, number: str) -> int:
        """How many calls this org made to this number before (seeds the next one's draw)."""
        ordinal = self.per_number[(org_id, number)]
        self.per_number[(org_id, number)] += 1
        return ordinal

    def add(self, call: FakeCall) -> None:
        self.calls[call.id] = call
        if call.active:
            self.active[call.org_id] += 1

    def ended(self, call: FakeCall) -> None:
        """Note that an active call has just ended (its slot is free again)."""
        self.active[call.org_id] -= 1

    def get(self, org_id: str, call_id: str) -> FakeCall | None:
        call = self.calls.get(call_id)
        return call if call is not None and call.org_id == org_id else None

    def query(self, org_id: str, query: CallQuery) -> list[FakeCall]:
        """Newest first, as Vapi lists calls."""
        found = [c for c in self.calls.values() if c.org_id == org_id and query.matches(c)]
        found.sort(key=lambda c: c.created_at, reverse=True)
        return found[: query.limit]

    def active_count(self, org_id: str) -> int:
        return self.active[org_id]
