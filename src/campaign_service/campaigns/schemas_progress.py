"""The progress report of a campaign (extension): where its calls stand, how fast it goes,
when it should finish, and why no call is being placed when none is."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from campaign_service.campaigns.schemas_control import CallingWindow
from campaign_service.campaigns.schemas_v2 import CampaignContactCounters
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.schema_types import OutputModel, Timestamp


class Blocker(StrEnum):
    """Why no call is being placed (one entry per reason that holds now)."""

    WAITING_FOR_EARLIEST_AT = "waiting-for-earliest-at"
    ENDED = "campaign-ended"
    PAUSED_BY_USER = "paused-by-user"
    PAUSED_BY_BREAKER = "paused-by-breaker"
    OUTSIDE_CALLING_HOURS = "outside-calling-hours"
    RETRY_PENDING = "retry-pending"
    PROVIDER_NO_CAPACITY = "provider-no-capacity"
    CAMPAIGN_CONCURRENCY_LIMIT = "campaign-concurrency-limit"
    ORG_CONCURRENCY_LIMIT = "org-concurrency-limit"
    ALL_PLACED = "all-placed"


class BlockedBy(OutputModel):
    reason: Blocker = Field(description="What holds dialing back (see the README).")
    message: str = Field(description="The reason in one sentence, with its figures.")
    since: Timestamp | None = Field(default=None, description="Since when it holds, if known.")
    until: Timestamp | None = Field(
        default=None, description="When it stops holding for at least one call, if known."
    )
    calls: int | None = Field(default=None, description="Waiting calls it holds back.")
    campaignIds: list[str] | None = Field(
        default=None, description="Campaigns using the organization's slots (org limit only)."
    )


class CallCounts(OutputModel):
    total: int = Field(description="Call records (attempts) of the campaign.")
    waiting: int = Field(description="Not placed yet and not being dialed.")
    callableNow: int = Field(description="Waiting calls that may be placed now.")
    outsideCallingHours: int = Field(description="Waiting for their local calling hours.")
    retryPending: int = Field(description="Retries waiting for their delay to pass.")
    noCapacityRetry: int = Field(
        description="Given back by a provider without capacity, waiting to be tried again."
    )
    dialing: int = Field(description="Claimed by a dispatcher, the provider not answered yet.")
    queued: int = Field(description="Accepted by the provider, not ringing yet.")
    inProgress: int = Field(description="Ringing, talking or being forwarded.")
    ended: int = Field(description="Ended.")


class Rate(OutputModel):
    windowSeconds: float = Field(description="The recent window the figures cover.")
    placed: int = Field(description="Calls placed in that window.")
    ended: int = Field(description="Calls that ended in that window.")
    placedPerMinute: float = Field(description="Placed calls per minute over the window.")


class Eta(OutputModel):
    remainingCalls: int = Field(description="Waiting calls (attempts known so far).")
    typicalCallSeconds: float = Field(description="Call length the estimate assumes.")
    typicalCallSource: Literal["campaign-median", "org-median", "default"] = Field(
        description="Median of this campaign's calls, of the organization's recent calls, or "
        "CAMPAIGN_SERVICE_TYPICAL_CALL_SECONDS."
    )
    estimatedFinishAt: Timestamp | None = Field(
        default=None,
        description="When the waiting calls would all have been placed and ended, at the "
        "available concurrency and inside calling hours (absent while paused or ended).",
    )


class Concurrency(OutputModel):
    maxConcurrency: int = Field(description="The campaign's own limit.")
    inFlight: int = Field(description="Its calls holding a slot now.")
    orgLimit: int = Field(description="The organization's concurrency limit.")
    orgInFlight: int = Field(description="Calls of all the organization's campaigns in flight.")
    available: int = Field(description="Slots this campaign could use now (both limits).")


class ZoneWindow(OutputModel):
    timeZones: list[str] = Field(description="The zones of these contacts (all must be open).")
    waiting: int = Field(description="Waiting calls of contacts in these zones.")
    open: bool = Field(description="Whether their calling hours are open now.")
    opensAt: Timestamp | None = Field(default=None, description="Next opening, if closed.")
    closesAt: Timestamp | None = Field(default=None, description="When they close, if open.")


class CallingWindowState(OutputModel):
    window: CallingWindow = Field(description="The campaign's callingWindow.")
    zones: list[ZoneWindow] = Field(
        description="Waiting calls by time zones, the 50 largest groups."
    )


class CampaignProgress(OutputModel):
    """Extension: GET /campaigns/{id}/progress."""

    campaignId: str = Field(description="The campaign.")
    status: CampaignStatus = Field(description="Its status.")
    at: Timestamp = Field(description="When this report was made.")
    pausedAt: Timestamp | None = Field(default=None, description="When it was paused.")
    pausedBy: Literal["user", "engine"] | None = Field(default=None, description="Who paused it.")
    pauseReason: str | None = Field(default=None, description="Why it was paused.")
    calls: CallCounts = Field(description="Call records by state.")
    contacts: CampaignContactCounters = Field(description="Contacts by v2 contact status.")
    rate: Rate = Field(description="Recent pace.")
    eta: Eta = Field(description="Estimated finish.")
    concurrency: Concurrency = Field(description="Slots in use and available.")
    callingWindow: CallingWindowState | None = Field(
        default=None, description="Calling hours by contact zones (with a callingWindow)."
    )
    blockedBy: list[BlockedBy] = Field(
        description="Every reason that holds dialing back now; empty while calls are being "
        "placed as fast as the limits allow."
    )
