"""The fake's own record of what it was asked and what it did, for tests to assert on.

"Each customer dialed exactly once" reads `dials_by_number`; "limits never exceeded" reads
`max_active_by_org` and `max_active_by_campaign`. A call refused for lack of concurrency never
rang, so it counts in `blocked_by_number`, not as a dial, and never as active.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from campaign_service.fakevapi.calls import FakeCall


@dataclass(frozen=True)
class RecordSnapshot:
    post_call_requests: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    dials_by_number: dict[str, int]
    blocked_by_number: dict[str, int]
    active_by_org: dict[str, int]
    max_active_by_org: dict[str, int]
    max_active_by_campaign: dict[str, int]
    webhooks: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "postCallRequests": self.post_call_requests,
            "calls": self.calls,
            "dialsByNumber": self.dials_by_number,
            "blockedByNumber": self.blocked_by_number,
            "activeByOrg": self.active_by_org,
            "maxActiveByOrg": self.max_active_by_org,
            "maxActiveByCampaign": self.max_active_by_campaign,
            "webhooks": self.webhooks,
        }


@dataclass
class Record:
    """Mutated only under the fake's lock."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    dials: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    active_org: Counter[str] = field(default_factory=Counter)
    active_campaign: Counter[str] = field(default_factory=Counter)
    max_org: Counter[str] = field(default_factory=Counter)
    max_campaign: Counter[str] = field(default_factory=Counter)
    webhooks: list[dict[str, Any]] = field(default_factory=list)

    def request_received(self, org_id: str | None, body: Any) -> dict[str, Any]:
        """Note a POST /call; the caller fills in `answer` once it is known."""
        entry: dict[str, Any] = {"orgId": org_id, "body": copy.deepcopy(body), "answer": None}
        self.requests.append(entry)
        return entry

    def call_created(self, call: FakeCall) -> None:
        self.calls.append(
            {
                "id": call.id,
                "orgId": call.org_id,
                "customerNumber": call.customer_number,
                "campaignId": call.campaign_tag,
                "callId": call.call_tag,
                "blocked": call.blocked,
            }
        )
        number = call.customer_number or ""
        if call.blocked:
            self.blocked[number] += 1
            return
        self.dials[number] += 1
        self._count(call, +1)

    def call_ended(self, call: FakeCall) -> None:
        if not call.blocked:
            self._count(call, -1)

    def _count(self, call: FakeCall, delta: int) -> None:
        self.active_org[call.org_id] += delta
        self.max_org[call.org_id] = max(self.max_org[call.org_id], self.active_org[call.org_id])
        campaign = call.campaign_tag
        if campaign is not None:
            self.active_campaign[campaign] += delta
            self.max_campaign[campaign] = max(
                self.max_campaign[campaign], self.active_campaign[campaign]
            )

    def webhook(self, **entry: Any) -> None:
        self.webhooks.append(entry)

    def snapshot(self) -> RecordSnapshot:
        return RecordSnapshot(
            post_call_requests=copy.deepcopy(self.requests),
            calls=copy.deepcopy(self.calls),
            dials_by_number=dict(self.dials),
            blocked_by_number=dict(self.blocked),
            active_by_org={k: v for k, v in self.active_org.items() if v},
            max_active_by_org=dict(self.max_org),
            max_active_by_campaign=dict(self.max_campaign),
            webhooks=copy.deepcopy(self.webhooks),
        )
