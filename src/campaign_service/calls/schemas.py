"""Per-call records as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.schema_types import (
    MAX_PAGE,
    InputModel,
    OutputModel,
    PaginationMeta,
    Timestamp,
)


class CallDetails(OutputModel):
    """One call of a campaign: the customer, the number it is placed from, and how it went."""

    id: str = Field(description="This is the unique identifier for the call.")
    campaignId: str = Field(description="The campaign this call belongs to.")
    position: int = Field(description="Dial order within the campaign, from 0 (upload order).")
    customer: dict[str, Any] = Field(description="The customer being called, as given.")
    phoneNumberId: str = Field(description="The phone number ID the call is placed from.")
    status: CallStatus = Field(description="This is the status of the call.")
    endedReason: str | None = Field(
        default=None, description="Why the call ended (one of Vapi's call endedReason values)."
    )
    skipReason: SkipReason | None = Field(
        default=None,
        description="Extension: why the call was screened out right before its dial, if it was "
        "(`predial-ineligible`, `predial-failed`, `do-not-call`, or `no-calling-hours` when its "
        "number's time zones share no calling hours); it then ended unplaced with "
        "endedReason `scheduled-call-deleted`.",
    )
    attempt: int | None = Field(
        default=None,
        description="Extension: which attempt at this contact the record is (1 = the first; "
        "the campaign's retryPlan adds more).",
    )
    contactId: str | None = Field(
        default=None,
        description="Extension: on a retry, the contact's first call record (the v2 contact "
        "ID); absent on the first attempt, whose own ID it is.",
    )
    nextAttemptAt: Timestamp | None = Field(
        default=None,
        description="Extension: for a waiting call, when it may be placed next (the opening "
        "of its calling hours, its retry time, or a retry after a provider without capacity).",
    )
    providerCallId: str | None = Field(
        default=None,
        description="Extension: the telephony provider's ID of the call (Vapi's call id for "
        "an org on the `vapi` provider), once placed.",
    )
    providerError: str | None = Field(
        default=None,
        description="Extension: the provider's own words when it refused to place the call "
        "(the call then ended with the closest endedReason).",
    )
    cost: float | None = Field(
        default=None, description="Extension: the call's cost as the provider reported it."
    )
    endOfCallReport: dict[str, Any] | None = Field(
        default=None,
        description="Extension: the useful fields of Vapi's end-of-call report (startedAt, "
        "endedAt, cost, summary, analysis, recordingUrl, endedReason as Vapi gave it).",
    )
    startedAt: Timestamp | None = Field(
        default=None, description="When the call was placed with the telephony provider."
    )
    endedAt: Timestamp | None = Field(default=None, description="When the call ended.")
    createdAt: Timestamp = Field(description="When the call record was created.")
    updatedAt: Timestamp = Field(description="When the call record last changed.")


class CallListQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    status: CallStatus | None = Field(default=None, description="Only calls in this status.")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    limit: int = Field(default=100, ge=0, le=1000, description="Items per page (0 to 1000).")
    sortOrder: Literal["ASC", "DESC"] = Field(
        default="ASC", description="Order by position (dial order)."
    )


class CallPaginatedResponse(OutputModel):
    results: list[CallDetails]
    metadata: PaginationMeta
