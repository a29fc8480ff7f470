"""Shapes of the campaign-control extensions: calling hours, retry plans, pauses, the
feasibility estimate and the progress report. None of them is part of Vapi's API; they are
optional fields and new paths, and Vapi's SDKs never send or need them."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from campaign_service.calls.outcomes import RetryGroup
from campaign_service.campaigns.calling_hours import DAYS, is_known_zone
from campaign_service.schema_types import InputModel, OutputModel, Timestamp, WholeNumber

MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _zone(value: str) -> str:
    if not is_known_zone(value):
        raise PydanticCustomError(
            "time_zone", "must be an IANA time zone name such as America/New_York"
        )
    return value


def _clock(value: str) -> str:
    if not CLOCK.match(value):
        raise PydanticCustomError("clock", "must be a local time as HH:MM (00:00 to 23:59)")
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone)]
ClockTime = Annotated[str, AfterValidator(_clock)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CallingWindow(InputModel):
    """Extension: local calling hours, evaluated in each contact's own time zone."""

    days: list[Weekday] = Field(
        min_length=1,
        description="Weekdays on which calls may be placed (mon, tue, ... sun), in the "
        "contact's local calendar.",
        examples=[["mon", "tue", "wed", "thu", "fri"]],
    )
    start: ClockTime = Field(description="Local time calls may start, HH:MM.", examples=["09:00"])
    end: ClockTime = Field(
        description="Local time after which no call is placed, HH:MM (after start, same day). "
        "Calls already placed may go on past it.",
        examples=["20:00"],
    )
    fallbackTimeZone: TimeZoneName = Field(
        description="IANA zone of contacts with no timeZone whose number's zone is unknown "
        "(SIP URIs, numbers outside the numbering plan).",
        examples=["America/New_York"],
    )

    @model_validator(mode="after")
    def _check(self) -> CallingWindow:
        if time.fromisoformat(self.start) >= time.fromisoformat(self.end):
            raise PydanticCustomError("calling_window", "end must be after start")
        if len(set(self.days)) != len(self.days):
            raise PydanticCustomError("calling_window", "days must not repeat")
        # Stored in calendar order, whatever order it was given in.
        self.days = sorted(self.days, key=DAYS.index)
        return self


class RetryDelay(InputModel):
    type: Literal["fixed", "backoff"] = Field(
        default="fixed",
        description="`fixed`: every retry waits `seconds`; `backoff`: the wait doubles with "
        "each attempt made (seconds, 2 x seconds, 4 x seconds, ...).",
    )
    seconds: Annotated[WholeNumber, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)] = Field(
        default=3600, description="The first wait, in seconds (1 to 604800)."
    )


class RetryPlan(InputModel):
    """Extension: call a contact again when an attempt ends with one of these outcomes."""

    retryOn: list[RetryGroup] = Field(
        min_length=1,
        description="Outcome groups that are retried: no-answer, busy, voicemail, "
        "failed-to-connect (the endedReasons of each are listed in the README).",
    )
    maxAttempts: Annotated[WholeNumber, Field(ge=1, le=MAX_ATTEMPTS)] = Field(
        default=2, description="Attempts in total per contact, the first included (1 to 5)."
    )
    delay: RetryDelay = Field(
        default_factory=RetryDelay,
        description="Wait before each retry; a retry is placed inside the calling window only.",
    )


class PauseRequest(InputModel):
    """Body of POST /campaigns/{id}/pause (optional)."""

    reason: str | None = Field(
        default=None, max_length=500, description="Why the campaign is paused (shown back)."
    )


class Feasibility(OutputModel):
    """Extension: the estimate made at creation of whether the campaign can finish in time."""

    contacts: int = Field(description="Contacts in the audience.")
    concurrency: int = Field(
        description="Calls at once the estimate assumes: maxConcurrency, capped by the "
        "organization's concurrency limit."
    )
    typicalCallSeconds: float = Field(description="Length assumed for each call, in seconds.")
    typicalCallSource: Literal["default", "org-median"] = Field(
        description="`org-median`: the median of the organization's recent placed calls; "
        "`default`: CAMPAIGN_SERVICE_TYPICAL_CALL_SECONDS (too few calls observed)."
    )
    estimatedFinishAt: Timestamp | None = Field(
        default=None,
        description="When the last first attempt would end, from the start time, calling "
        "hours and concurrency (retries not included). Absent when some contacts can never "
        "be called.",
    )
    fitsBeforeLatestAt: bool | None = Field(
        default=None,
        description="Whether estimatedFinishAt comes before schedulePlan.latestAt (absent "
        "without a latestAt).",
    )
    message: str = Field(description="The estimate in one sentence.")
