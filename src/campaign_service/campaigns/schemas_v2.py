"""Vapi's v2 campaign shapes: campaign summaries with contact counters, contacts, and the
campaign history (an extension).

v2 names the same data differently. A contact is one customer of the campaign, i.e. one call
record here (same ID). How its status is derived from the call is documented in the README
and implemented in `readmodel.contacts`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field

from campaign_service.campaigns.schemas import (
    CALLING_WINDOW,
    DESC,
    PAUSE_FIELDS,
    RETRY_PLAN,
    CampaignListQuery,
    SchedulePlan,
)
from campaign_service.campaigns.schemas_control import CallingWindow, RetryPlan
from campaign_service.campaigns.state import (
    CampaignEndedReason,
    CampaignStatusV2,
    Stage,
)
from campaign_service.schema_types import (
    MAX_PAGE,
    InputModel,
    OutputModel,
    PaginationMeta,
    Timestamp,
)


class ContactStatus(StrEnum):
    PENDING = "contact.pending"
    DISPATCHED = "contact.dispatched"
    COMPLETED = "contact.completed"
    FAILED = "contact.failed"
    SKIPPED = "contact.skipped"
    PREDIAL_FAILED = "contact.predial-failed"


class CampaignContactCounters(OutputModel):
    """Contacts per status. Their sum is the audience; pending + dispatched is what is left."""

    pending: int = Field(description="Contacts not dialed yet.")
    dispatched: int = Field(description="Contacts being dialed or on a call.")
    completed: int = Field(description="Contacts whose call was placed and has ended.")
    failed: int = Field(description="Contacts the telephony provider refused to call.")
    skipped: int = Field(
        description="Contacts never dialed: the campaign was ended first, its capacity window "
        "closed, the pre-dial server said not eligible, or the number is on the do-not-call list."
    )
    predialFailed: int = Field(
        description="Contacts never dialed because the pre-dial server gave no valid answer "
        "(timeout, error, unreachable, malformed reply): the check fails closed."
    )


class CampaignCallMetrics(OutputModel):
    dialed: int = Field(description="Contacts for which a call was actually placed.")
    connected: int = Field(
        description="Placed calls a person picked up (answered, not voicemail). "
        "The pick-up rate is connected / dialed."
    )


class CampaignSummary(OutputModel):
    """A campaign without its audience and call map (v2 get and list)."""

    status: CampaignStatusV2 = Field(
        description="This is the status of the campaign: scheduled, in-progress, ended, or "
        "cancelled when the user ended it (v1 reads ended, with an ended-by-user reason)."
    )
    endedReason: CampaignEndedReason | None = Field(
        default=None, description="This is the explanation for how the campaign ended."
    )
    name: str = Field(description="This is the name of the campaign.")
    id: str = Field(description="This is the unique identifier for the campaign.")
    orgId: str = Field(description="The org this campaign belongs to.")
    createdAt: Timestamp = Field(description="When the campaign was created.")
    updatedAt: Timestamp = Field(description="When the campaign was last updated.")
    assistantId: str | None = Field(default=None, description=DESC["assistantId"])
    squadId: str | None = Field(default=None, description=DESC["squadId"])
    phoneNumberId: str | None = Field(default=None, description=DESC["phoneNumberId"])
    schedulePlan: SchedulePlan | None = Field(default=None, description=DESC["schedulePlan"])
    maxConcurrency: int | None = Field(default=None, description=DESC["maxConcurrency"])
    assistantOverrides: dict[str, Any] | None = Field(
        default=None, description=DESC["assistantOverrides"]
    )
    squadOverrides: dict[str, Any] | None = Field(default=None, description=DESC["squadOverrides"])
    server: dict[str, Any] | None = Field(default=None, description=DESC["server"])
    serverMessages: list[str] | None = Field(default=None, description=DESC["serverMessages"])
    predialPlan: dict[str, Any] | None = Field(default=None, description=DESC["predialPlan"])
    contactCounters: CampaignContactCounters | None = Field(
        default=None, description="Per-status contact counts (with includeCounters=true)."
    )
    callMetrics: CampaignCallMetrics | None = Field(
        default=None, description="Call-level outcomes (with includeCounters=true)."
    )
    callingWindow: CallingWindow | None = Field(default=None, description=CALLING_WINDOW)
    retryPlan: RetryPlan | None = Field(default=None, description=RETRY_PLAN)
    pausedAt: Timestamp | None = Field(default=None, description=PAUSE_FIELDS["pausedAt"])
    pausedBy: Literal["user", "engine"] | None = Field(
        default=None, description=PAUSE_FIELDS["pausedBy"]
    )
    pauseReason: str | None = Field(default=None, description=PAUSE_FIELDS["pauseReason"])
    resumedAt: Timestamp | None = Field(default=None, description=PAUSE_FIELDS["resumedAt"])


class CampaignSummaryPaginatedResponse(OutputModel):
    results: list[CampaignSummary] = Field(description="This page's campaigns.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class CampaignContactWithOutcome(OutputModel):
    id: str = Field(
        description="The contact's ID: its first call record's ID (stable across retries)."
    )
    number: str = Field(description="The customer's number (or SIP URI).")
    status: ContactStatus = Field(
        description="pending: not dialed yet; dispatched: being dialed or on a call; completed: "
        "its call was placed and has ended; failed: the provider refused the call; skipped: "
        "never dialed because the campaign was ended, its capacity window closed, the pre-dial "
        "server said not eligible or the number is on the do-not-call list; predial-failed: "
        "never dialed because the pre-dial server gave no valid answer."
    )
    name: str | None = Field(default=None, description="The customer's name.")
    callId: str | None = Field(default=None, description="Set once the contact was dispatched.")
    dispatchedAt: Timestamp | None = Field(default=None, description="When it was dispatched.")
    endedReason: str | None = Field(default=None, description="The call's endedReason.")
    attempts: int | None = Field(
        default=None,
        description="Extension: call records made for this contact so far (1 without retries; "
        "callId and the outcome are the latest attempt's).",
    )
    callableAt: Timestamp | None = Field(
        default=None,
        description="Extension: for a pending contact that is waiting (for its calling hours, "
        "a retry delay or a slot the provider lacked), when it may be called next.",
    )


class CampaignContactPaginatedResponse(OutputModel):
    results: list[CampaignContactWithOutcome] = Field(description="This page's contacts.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class CampaignListQueryV2(CampaignListQuery):
    includeCounters: bool = Field(
        default=False, description="Add contactCounters and callMetrics to each campaign."
    )


class SummaryQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    includeCounters: bool = Field(default=False, description="Add contactCounters and callMetrics.")


class ContactListQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    status: list[ContactStatus] | None = Field(
        default=None, description="Only contacts in these statuses (repeat the key for several)."
    )
    limit: int = Field(default=50, ge=0, le=1000, description="Items per page (0 to 1000).")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    sortBy: Literal["position", "status"] = Field(
        default="position",
        description="`position` is the upload (= dial) order; `status` sorts in lifecycle order.",
    )


class CampaignHistoryEntry(OutputModel):
    """One move of a campaign through its lifecycle (extension)."""

    id: str = Field(description="The history row's ID (increasing with time).")
    campaignId: str = Field(description="The campaign that moved.")
    fromStatus: Stage | None = Field(
        default=None, description="Where it was; absent on the row that records its creation."
    )
    toStatus: Stage = Field(
        description="Where it went: scheduled, in-progress, ended, or archived (deleted)."
    )
    endedReason: CampaignEndedReason | None = Field(
        default=None, description="The campaign's endedReason, on a move to ended."
    )
    cause: str = Field(
        description="Why it moved: created, earliest-at-reached, started-at-once, "
        "all-calls-ended, capacity-window-closed, ended-by-user or deleted-by-user; and, "
        "for pauses (the status stays in-progress), paused-by-user, paused-by-breaker or "
        "resumed-by-user."
    )
    reason: str | None = Field(
        default=None, description="Why it was paused, in words (the user's or the breaker's)."
    )
    source: Literal["user", "engine"] = Field(description="Who moved it.")
    detail: str = Field(description="The cause, as a sentence.")
    createdAt: Timestamp = Field(description="When it moved.")


class CampaignHistoryPaginatedResponse(OutputModel):
    results: list[CampaignHistoryEntry] = Field(description="This page's moves, oldest first.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class HistoryQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    limit: int = Field(default=100, ge=0, le=1000, description="Items per page (0 to 1000).")
