"""Pydantic mirror of Vapi's Campaign JSON Schema and the DTOs around it.

Field names are the JSON names (camelCase) so the models read like the schema they mirror.
Descriptions are the schema's own; where this service adds meaning, the text says so.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from campaign_service.calls.schemas import CallDetails
from campaign_service.campaigns.schemas_control import (
    CallingWindow,
    Feasibility,
    RetryPlan,
    TimeZoneName,
)
from campaign_service.campaigns.state import CampaignEndedReason, CampaignStatus
from campaign_service.schema_types import (
    MAX_PAGE,
    InputModel,
    InputTimestamp,
    JsonBool,
    OutputModel,
    PaginationMeta,
    RequestModel,
    Timestamp,
    WholeNumber,
)

MAX_CUSTOMERS = 10_000
MAX_CONCURRENCY = 500
DEFAULT_MAX_CONCURRENCY = 10

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
LOOSE_NUMBER = re.compile(r"^\+?[a-zA-Z0-9]+$")


ServerMessage = Literal[
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "campaign.unarchived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
    "campaign.job.continued",
]

DESC = {
    "status": "This is the status of the campaign.",
    "endedReason": "This is the explanation for how the campaign ended.",
    "name": "This is the name of the campaign. This is just for your own reference.",
    "assistantId": "This is the assistant ID that will be used for the campaign calls. "
    "Note: Only one of assistantId, workflowId, or squadId can be used.",
    "workflowId": "This is the workflow ID that will be used for the campaign calls. "
    "Note: Only one of assistantId, workflowId, or squadId can be used.",
    "squadId": "This is the squad ID that will be used for the campaign calls. "
    "Note: Only one of assistantId, workflowId, or squadId can be used.",
    "phoneNumberId": "This is the phone number ID that will be used for the campaign calls. "
    "Required if dialPlan is not provided. Note: phoneNumberId and dialPlan are mutually "
    "exclusive.",
    "dialPlan": "This is a list of dial entries, each specifying a phone number and the "
    "customers to call using that number. Use this when you want different phone numbers to "
    "call different sets of customers. Note: phoneNumberId and dialPlan are mutually exclusive.",
    "schedulePlan": "This is the schedule plan for the campaign. Calls will start at startedAt "
    "and continue until your organization\u2019s concurrency limit is reached. Any remaining "
    "calls will be retried for up to one hour as capacity becomes available. After that hour or "
    "after latestAt, whichever comes first, any calls that couldn\u2019t be placed won\u2019t be "
    "retried.",
    "customers": "These are the customers that will be called in the campaign. Required if "
    "dialPlan is not provided.",
    "id": "This is the unique identifier for the campaign.",
    "orgId": "This is the unique identifier for the org that this campaign belongs to.",
    "createdAt": "This is the ISO 8601 date-time string of when the campaign was created.",
    "updatedAt": "This is the ISO 8601 date-time string of when the campaign was last updated.",
    "calls": "This is a map of call IDs to campaign call details.",
    "callsCounterScheduled": "This is the number of calls that have been scheduled.",
    "callsCounterQueued": "This is the number of calls that have been queued.",
    "callsCounterInProgress": "This is the number of calls that have been in progress.",
    "callsCounterEndedVoicemail": "This is the number of calls whose ended reason is 'voicemail'.",
    "callsCounterEnded": "This is the number of calls that have ended.",
    "maxConcurrency": "Maximum number of calls of this campaign in flight at once. "
    "Defaults to 10. Maximum of 500, and never above the organization's concurrency limit.",
    "assistantOverrides": "Campaign-level overrides for the assistant (for example "
    "variableValues). Stored and passed to every call as given.",
    "squadOverrides": "Campaign-level overrides used with squadId. Stored and passed to every "
    "call as given.",
    "server": "Webhook target for campaign messages (url, headers, timeoutSeconds, ...).",
    "serverMessages": "Which campaign events are sent to the server.",
    "predialPlan": "Opts in to the campaign.predial webhook. Requires server.",
}

CALLING_WINDOW = (
    "Extension: local calling hours. A call is placed only while the contact's local time "
    "(its timeZone, else its number's zone, else fallbackTimeZone) is inside the window; "
    "contacts outside it wait. Set at creation."
)
RETRY_PLAN = (
    "Extension: call a contact again after an outcome in retryOn, up to maxAttempts in "
    "total, after the delay and inside the calling window. Each attempt is its own call "
    "record. Set at creation."
)
PAUSE_FIELDS = {
    "pausedAt": "Extension: when the campaign was paused (absent unless paused). A paused "
    "campaign stays in-progress and places no new calls; calls in progress finish.",
    "pausedBy": "Extension: who paused it: `user` (API or CLI) or `engine` (its breaker, when "
    "most recent attempts failed at the provider).",
    "pauseReason": "Extension: why it was paused.",
    "resumedAt": "Extension: when it was last resumed.",
}

COUNTER_NOTE = (
    " Counted live from the campaign's call records: scheduled + queued + inProgress + ended "
    "always equals the number of calls."
)


def _d(name: str, extra: str = "") -> Any:
    return Field(default=None, description=DESC[name] + extra)


def _null_is_true(value: Any) -> Any:
    return True if value is None else value


# Not an InputModel: its per-object pass that drops nulls was a third of a 10,000-customer
# create's CPU. Every field but numberE164CheckEnabled takes null as its default (None)
# already; that one reads null as its default (true) itself.
class CreateCustomerDTO(RequestModel):
    """One customer (a phone number and who is behind it) to call."""

    numberE164CheckEnabled: Annotated[JsonBool, BeforeValidator(_null_is_true)] = Field(
        default=True,
        description="This is the flag to toggle the E164 check for the `number` field. When "
        "true (the default) the number must be E.164 (+14155551234); when false it must still "
        "match ^\\+?[a-zA-Z0-9]+$.",
    )
    extension: str | None = Field(
        default=None,
        max_length=10,
        description="This is the extension that will be dialed after the call is answered.",
    )
    assistantOverrides: dict[str, Any] | None = Field(
        default=None,
        description="Per-customer assistant overrides (for example variableValues), merged on "
        "top of the campaign's.",
    )
    squadOverrides: dict[str, Any] | None = Field(
        default=None, description="Per-customer overrides for squad-based calls."
    )
    number: str | None = Field(
        default=None,
        min_length=3,
        max_length=40,
        description="This is the number of the customer.",
    )
    sipUri: str | None = Field(default=None, description="This is the SIP URI of the customer.")
    name: str | None = Field(
        default=None,
        max_length=40,
        description="This is the name of the customer. This is just for your own reference.",
    )
    email: str | None = Field(
        default=None, max_length=40, description="This is the email address of the customer."
    )
    externalId: str | None = Field(
        default=None,
        max_length=40,
        description="This is the external ID of the customer.",
    )
    timeZone: TimeZoneName | None = Field(
        default=None,
        description="Extension: the customer's IANA time zone, for the campaign's "
        "callingWindow (without it, the zone is derived from the number).",
    )

    @field_validator("number")
    @classmethod
    def _check_number(cls, number: str | None, info: ValidationInfo) -> str | None:
        if number is None:
            return None
        if info.data.get("numberE164CheckEnabled", True):
            if not E164.match(number):
                raise PydanticCustomError(
                    "e164",
                    "must be a valid E.164 phone number such as +14155551234 "
                    "(set numberE164CheckEnabled to false to allow other formats)",
                )
        elif not LOOSE_NUMBER.match(number):
            raise PydanticCustomError(
                "number_format", "may contain only letters and digits, after an optional +"
            )
        return number

    @model_validator(mode="after")
    def _check_target(self) -> CreateCustomerDTO:
        if self.number is None and self.sipUri is None:
            raise PydanticCustomError("customer_target", "needs a number or a sipUri")
        return self


class DialPlanEntry(InputModel):
    """A phone number and the customers to call through it."""

    phoneNumberId: str = Field(
        min_length=1, description="This is the phone number ID to use for these customers."
    )
    customers: list[CreateCustomerDTO] = Field(
        description="These are the customers to call using this phone number."
    )


class SchedulePlan(InputModel):
    """When calls may be placed."""

    earliestAt: InputTimestamp = Field(
        description="This is the ISO 8601 date-time string of the earliest time the call can "
        "be scheduled."
    )
    latestAt: InputTimestamp | None = Field(
        default=None,
        description="This is the ISO 8601 date-time string of the latest time the call can be "
        "scheduled.",
    )

    @model_validator(mode="after")
    def _check_window(self) -> SchedulePlan:
        if self.latestAt is not None and self.latestAt <= self.earliestAt:
            raise PydanticCustomError("schedule_window", "latestAt must be after earliestAt")
        return self


class PredialPlan(InputModel):
    enabled: JsonBool | None = Field(
        default=None,
        description="Whether the campaign.predial webhook runs (true when omitted).",
    )


MaxConcurrency = Annotated[WholeNumber, Field(ge=1, le=MAX_CONCURRENCY)]


def _not_blank(value: str) -> str:
    if value and not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value


# A name must say something: whitespace alone is refused.
NonEmptyName = Annotated[str, Field(min_length=1, max_length=400), AfterValidator(_not_blank)]


def _rule_error(messages: list[str]) -> PydanticCustomError:
    return PydanticCustomError(
        "campaign_rules", "{joined}", {"joined": "; ".join(messages), "messages": messages}
    )


def _one_target_errors(assistant: str | None, workflow: str | None, squad: str | None) -> list[str]:
    given = [
        n
        for n, v in (("assistantId", assistant), ("workflowId", workflow), ("squadId", squad))
        if v is not None
    ]
    if len(given) > 1:
        return [
            f"only one of assistantId, workflowId or squadId can be used (got {', '.join(given)})"
        ]
    return []


class CreateCampaignDTO(InputModel):
    """Body of POST /campaign and POST /campaigns."""

    name: NonEmptyName = Field(description=DESC["name"], examples=["Q2 Sales Campaign"])
    assistantId: str | None = _d("assistantId")
    workflowId: str | None = _d("workflowId")
    squadId: str | None = _d("squadId")
    phoneNumberId: str | None = _d("phoneNumberId")
    dialPlan: list[DialPlanEntry] | None = _d("dialPlan")
    schedulePlan: SchedulePlan | None = _d("schedulePlan")
    customers: list[CreateCustomerDTO] | None = _d(
        "customers", " Maximum of 10000 customers per campaign."
    )
    maxConcurrency: MaxConcurrency = Field(
        default=DEFAULT_MAX_CONCURRENCY, description=DESC["maxConcurrency"]
    )
    assistantOverrides: dict[str, Any] | None = _d("assistantOverrides")
    squadOverrides: dict[str, Any] | None = _d("squadOverrides")
    server: dict[str, Any] | None = _d("server")
    serverMessages: list[ServerMessage] | None = _d("serverMessages")
    predialPlan: PredialPlan | None = _d("predialPlan")
    callingWindow: CallingWindow | None = Field(default=None, description=CALLING_WINDOW)
    retryPlan: RetryPlan | None = Field(default=None, description=RETRY_PLAN)
    duplicateFromCampaignId: str | None = Field(
        default=None,
        description="Copy this campaign's configuration (and its audience when customers and "
        "dialPlan are not given); the request's fields apply on top. The campaign must be "
        "one of your organization's. Not echoed back.",
    )

    @model_validator(mode="after")
    def _check_rules(self) -> CreateCampaignDTO:
        if self.duplicateFromCampaignId is not None:
            # Checked once the source's configuration is merged in (`duplicate_body`).
            return self
        errors = _one_target_errors(self.assistantId, self.workflowId, self.squadId)
        if not errors and self.assistantId is self.workflowId is self.squadId is None:
            errors.append("one of assistantId, workflowId or squadId is required")
        if self.phoneNumberId is not None and self.dialPlan is not None:
            errors.append("phoneNumberId and dialPlan are mutually exclusive")
        elif self.phoneNumberId is None and self.dialPlan is None:
            errors.append("phoneNumberId is required when dialPlan is not provided")
        if self.dialPlan is None and self.customers is None:
            errors.append("customers is required when dialPlan is not provided")
        if self.dialPlan is not None and self.customers is not None:
            errors.append("customers cannot be combined with dialPlan; put them in the entries")
        total = self.customer_count()
        if (self.customers is not None or self.dialPlan is not None) and total == 0:
            errors.append("a campaign needs at least 1 customer")
        if total > MAX_CUSTOMERS:
            errors.append(f"a campaign can have at most {MAX_CUSTOMERS} customers (got {total})")
        if self.predialPlan is not None and self.server is None:
            errors.append("predialPlan requires server")
        if errors:
            raise _rule_error(errors)
        return self

    def customer_count(self) -> int:
        if self.dialPlan is not None:
            return sum(len(entry.customers) for entry in self.dialPlan)
        return len(self.customers or ())


class UpdateCampaignDTO(InputModel):
    """Body of PATCH. Every field is optional; `{}` changes nothing."""

    name: NonEmptyName | None = Field(default=None, description=DESC["name"])
    assistantId: str | None = _d("assistantId", " Can only be updated while scheduled.")
    workflowId: str | None = _d("workflowId", " Can only be updated while scheduled.")
    squadId: str | None = _d("squadId", " Can only be updated while scheduled.")
    phoneNumberId: str | None = _d("phoneNumberId", " Can only be updated while scheduled.")
    dialPlan: list[DialPlanEntry] | None = _d("dialPlan", " Can only be updated while scheduled.")
    schedulePlan: SchedulePlan | None = _d("schedulePlan", " Can only be updated while scheduled.")
    maxConcurrency: MaxConcurrency | None = Field(
        default=None,
        description=DESC["maxConcurrency"] + " Can only be updated while scheduled.",
    )
    status: Literal["ended", "cancelled"] | None = Field(
        default=None,
        description="Set to 'ended' (or its alias 'cancelled') to stop the campaign: calls not "
        "yet placed are cancelled, calls in progress are allowed to finish.",
    )

    @model_validator(mode="after")
    def _check_rules(self) -> UpdateCampaignDTO:
        errors = _one_target_errors(self.assistantId, self.workflowId, self.squadId)
        if self.phoneNumberId is not None and self.dialPlan is not None:
            errors.append("phoneNumberId and dialPlan are mutually exclusive")
        if self.dialPlan is not None:
            total = sum(len(entry.customers) for entry in self.dialPlan)
            if total == 0:
                errors.append("a campaign needs at least 1 customer")
            elif total > MAX_CUSTOMERS:
                errors.append(
                    f"a campaign can have at most {MAX_CUSTOMERS} customers (got {total})"
                )
        if errors:
            raise _rule_error(errors)
        return self

    def config_fields(self) -> set[str]:
        """Fields sent that change configuration (everything but name and status)."""
        return self.model_fields_set - {"name", "status"}


def _counter(name: str, meaning: str) -> Any:
    return Field(description=f"{DESC[name]} {meaning}{COUNTER_NOTE}")


class Campaign(OutputModel):
    """A campaign: who to call, from which number, when, and how it is going."""

    status: CampaignStatus = Field(description=DESC["status"])
    endedReason: CampaignEndedReason | None = Field(default=None, description=DESC["endedReason"])
    name: str = Field(description=DESC["name"], examples=["Q2 Sales Campaign"])
    assistantId: str | None = Field(default=None, description=DESC["assistantId"])
    workflowId: str | None = Field(default=None, description=DESC["workflowId"])
    squadId: str | None = Field(default=None, description=DESC["squadId"])
    phoneNumberId: str | None = Field(default=None, description=DESC["phoneNumberId"])
    dialPlan: list[DialPlanEntry] | None = Field(default=None, description=DESC["dialPlan"])
    schedulePlan: SchedulePlan | None = Field(default=None, description=DESC["schedulePlan"])
    customers: list[CreateCustomerDTO] | None = Field(default=None, description=DESC["customers"])
    id: str = Field(description=DESC["id"])
    orgId: str = Field(description=DESC["orgId"])
    createdAt: Timestamp = Field(description=DESC["createdAt"])
    updatedAt: Timestamp = Field(description=DESC["updatedAt"])
    calls: dict[str, CallDetails] = Field(
        description=DESC["calls"] + " Every customer has one call record from the moment the "
        "campaign is created; the details fill in as the call is placed and ends."
    )
    callsCounterScheduled: int = _counter(
        "callsCounterScheduled", "Calls waiting to be placed (call status `scheduled`)."
    )
    callsCounterQueued: int = _counter(
        "callsCounterQueued",
        "Calls handed to the telephony provider, not yet ringing (call status `queued`).",
    )
    callsCounterInProgress: int = _counter(
        "callsCounterInProgress",
        "Calls placed and not yet ended (call status `ringing`, `in-progress` or `forwarding`).",
    )
    callsCounterEndedVoicemail: int = _counter(
        "callsCounterEndedVoicemail", "A subset of callsCounterEnded."
    )
    callsCounterEnded: int = _counter("callsCounterEnded", "Calls with status `ended`.")
    # Always sent, but optional as in Vapi's Campaign (the seed schema does not require it).
    maxConcurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, description=DESC["maxConcurrency"])
    assistantOverrides: dict[str, Any] | None = Field(
        default=None, description=DESC["assistantOverrides"]
    )
    squadOverrides: dict[str, Any] | None = Field(default=None, description=DESC["squadOverrides"])
    server: dict[str, Any] | None = Field(default=None, description=DESC["server"])
    serverMessages: list[str] | None = Field(default=None, description=DESC["serverMessages"])
    predialPlan: dict[str, Any] | None = Field(default=None, description=DESC["predialPlan"])
    callingWindow: CallingWindow | None = Field(default=None, description=CALLING_WINDOW)
    retryPlan: RetryPlan | None = Field(default=None, description=RETRY_PLAN)
    pausedAt: Timestamp | None = Field(default=None, description=PAUSE_FIELDS["pausedAt"])
    pausedBy: Literal["user", "engine"] | None = Field(
        default=None, description=PAUSE_FIELDS["pausedBy"]
    )
    pauseReason: str | None = Field(default=None, description=PAUSE_FIELDS["pauseReason"])
    resumedAt: Timestamp | None = Field(default=None, description=PAUSE_FIELDS["resumedAt"])
    dispatchBlockedReason: str | None = Field(
        default=None,
        description="Extension: why no call of the campaign is being placed, when its "
        "organization's telephony provider refused its credentials (for Vapi, a 401 or 403 "
        "with the org's API key). A new key (`org update --vapi-api-key-file`) clears it "
        "and dispatch resumes. Absent otherwise.",
    )
    feasibility: Feasibility | None = Field(
        default=None,
        description="Extension: the estimate made at creation of whether the campaign can "
        "finish before schedulePlan.latestAt, from its audience, calling hours, concurrency "
        "and a typical call length. Never an error.",
    )


class CampaignPaginatedResponse(OutputModel):
    results: list[Campaign]
    metadata: PaginationMeta


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class CampaignListQuery(InputModel):
    """Query parameters of GET /campaign(s); unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, description="Only the campaign with this ID.")
    status: Literal["scheduled", "in-progress", "ended", "cancelled", "archived"] | None = Field(
        default=None,
        description="Only campaigns in this status. `cancelled` matches campaigns ended by the "
        "user; `archived` campaigns are deleted and never listed, so it matches nothing.",
    )
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    limit: int = Field(default=100, ge=0, le=1000, description="Items per page (0 to 1000).")
    sortOrder: SortOrder = Field(default=SortOrder.DESC, description="ASC or DESC.")
    sortBy: Literal["createdAt", "duration", "cost"] = Field(
        default="createdAt",
        description="Sort key. Campaigns have no duration or cost, so those sort by createdAt.",
    )
    createdAtGt: InputTimestamp | None = Field(default=None, description="createdAt > value.")
    createdAtLt: InputTimestamp | None = Field(default=None, description="createdAt < value.")
    createdAtGe: InputTimestamp | None = Field(default=None, description="createdAt >= value.")
    createdAtLe: InputTimestamp | None = Field(default=None, description="createdAt <= value.")
    updatedAtGt: InputTimestamp | None = Field(default=None, description="updatedAt > value.")
    updatedAtLt: InputTimestamp | None = Field(default=None, description="updatedAt < value.")
    updatedAtGe: InputTimestamp | None = Field(default=None, description="updatedAt >= value.")
    updatedAtLe: InputTimestamp | None = Field(default=None, description="updatedAt <= value.")

    @field_validator("id")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None
