"""Response examples shown in the OpenAPI docs (tests validate each against its schema)."""

from __future__ import annotations

from typing import Any

from campaign_service.api.deps import INVALID_KEY, MISSING_KEY

ORG_ID = "6f1b0c3e-2d4a-4c55-9a8e-0d7f2b9c1a10"
CAMPAIGN_ID = "0b6a4a51-6c6e-4d4b-b0f8-3f1e9d2c7a55"
CALL_IDS = ("5c2e8f3a-1b7d-4e0a-9c6f-2a8b4d1e7f01", "9d4f1a6b-3c8e-4f2b-a1d7-6e0c5b2a8f02")
CREATED = "2030-01-15T14:02:11.000Z"


def _call(index: int, **changes: Any) -> dict[str, Any]:
    customers = (
        {"name": "Ada Lovelace", "number": "+14155550101", "numberE164CheckEnabled": True},
        {"name": "Alan Turing", "number": "+14155550102", "numberE164CheckEnabled": True},
    )
    call: dict[str, Any] = {
        "id": CALL_IDS[index],
        "campaignId": CAMPAIGN_ID,
        "position": index,
        "customer": customers[index],
        "phoneNumberId": "pn_main_line",
        "status": "scheduled",
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }
    call.update(changes)
    return call


CALL_ENDED = _call(
    0,
    status="ended",
    endedReason="customer-ended-call",
    startedAt="2030-01-15T15:00:01.250Z",
    endedAt="2030-01-15T15:03:40.120Z",
    updatedAt="2030-01-15T15:03:40.120Z",
)
CALL_IN_PROGRESS = _call(
    1,
    status="in-progress",
    startedAt="2030-01-15T15:00:01.310Z",
    updatedAt="2030-01-15T15:00:09.800Z",
)


def _campaign(**changes: Any) -> dict[str, Any]:
    campaign: dict[str, Any] = {
        "status": "scheduled",
        "name": "Q2 Sales Campaign",
        "assistantId": "asst_sales_q2",
        "phoneNumberId": "pn_main_line",
        "customers": [
            {"numberE164CheckEnabled": True, "number": "+14155550101", "name": "Ada Lovelace"},
            {"numberE164CheckEnabled": True, "number": "+14155550102", "name": "Alan Turing"},
        ],
        "schedulePlan": {"earliestAt": "2030-01-15T15:00:00.000Z"},
        "id": CAMPAIGN_ID,
        "orgId": ORG_ID,
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "calls": {CALL_IDS[0]: _call(0), CALL_IDS[1]: _call(1)},
        "callsCounterScheduled": 2,
        "callsCounterQueued": 0,
        "callsCounterInProgress": 0,
        "callsCounterEndedVoicemail": 0,
        "callsCounterEnded": 0,
        "maxConcurrency": 5,
    }
    campaign.update(changes)
    return campaign


CAMPAIGN_SCHEDULED = _campaign()
CAMPAIGN_RUNNING = _campaign(
    status="in-progress",
    updatedAt="2030-01-15T15:03:40.120Z",
    calls={CALL_IDS[0]: CALL_ENDED, CALL_IDS[1]: CALL_IN_PROGRESS},
    callsCounterScheduled=0,
    callsCounterInProgress=1,
    callsCounterEnded=1,
)
CAMPAIGN_ENDED = _campaign(
    status="ended",
    endedReason="campaign.in-progress.ended-by-user",
    updatedAt="2030-01-15T15:05:00.000Z",
    calls={CALL_IDS[0]: CALL_ENDED, CALL_IDS[1]: CALL_IN_PROGRESS},
    callsCounterScheduled=0,
    callsCounterInProgress=1,
    callsCounterEnded=1,
)


def _moved(row: int, to: str, at: str, cause: str, detail: str, **changes: Any) -> dict[str, Any]:
    entry = {
        "id": str(row),
        "campaignId": CAMPAIGN_ID,
        "toStatus": to,
        "cause": cause,
        "source": "user" if cause.endswith("by-user") or cause == "created" else "engine",
        "detail": detail,
        "createdAt": at,
    }
    entry.update(changes)
    return entry


HISTORY = [
    _moved(1, "scheduled", CREATED, "created", "Created."),
    _moved(
        2,
        "in-progress",
        "2030-01-15T15:00:00.250Z",
        "earliest-at-reached",
        "schedulePlan.earliestAt was reached; dialing started.",
        fromStatus="scheduled",
    ),
    _moved(
        3,
        "ended",
        "2030-01-15T15:05:00.000Z",
        "ended-by-user",
        "Ended by the user; calls not yet placed were cancelled.",
        fromStatus="in-progress",
        endedReason="campaign.in-progress.ended-by-user",
    ),
]


# Extensions: a campaign with calling hours and retries, paused by the breaker; its progress.
WINDOW = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "20:00",
    "fallbackTimeZone": "America/New_York",
}
CAMPAIGN_PAUSED = _campaign(
    status="in-progress",
    updatedAt="2030-01-15T15:04:00.000Z",
    calls={CALL_IDS[0]: CALL_ENDED, CALL_IDS[1]: _call(1, attempt=1)},
    callsCounterScheduled=1,
    callsCounterEnded=1,
    callingWindow=WINDOW,
    retryPlan={
        "retryOn": ["no-answer", "busy"],
        "maxAttempts": 3,
        "delay": {"type": "fixed", "seconds": 3600},
    },
    pausedAt="2030-01-15T15:04:00.000Z",
    pausedBy="engine",
    pauseReason="10 of the last 11 attempts failed at the provider "
    "(most often call.start.error-get-phone-number)",
)
CAMPAIGN_RESUMED = {
    **{
        k: v for k, v in CAMPAIGN_PAUSED.items() if k not in ("pausedAt", "pausedBy", "pauseReason")
    },
    "resumedAt": "2030-01-15T15:20:00.000Z",
    "updatedAt": "2030-01-15T15:20:00.000Z",
}
PROGRESS = {
    "campaignId": CAMPAIGN_ID,
    "status": "in-progress",
    "at": "2030-01-15T15:30:00.000Z",
    "calls": {
        "total": 1200,
        "waiting": 700,
        "callableNow": 180,
        "outsideCallingHours": 500,
        "retryPending": 20,
        "noCapacityRetry": 0,
        "dialing": 0,
        "queued": 2,
        "inProgress": 8,
        "ended": 490,
    },
    "contacts": {
        "pending": 680,
        "dispatched": 10,
        "completed": 490,
        "failed": 0,
        "skipped": 0,
        "predialFailed": 0,
    },
    "rate": {"windowSeconds": 300.0, "placed": 42, "ended": 40, "placedPerMinute": 8.4},
    "eta": {
        "remainingCalls": 700,
        "typicalCallSeconds": 71.5,
        "typicalCallSource": "campaign-median",
        "estimatedFinishAt": "2030-01-15T19:05:00.000Z",
    },
    "concurrency": {
        "maxConcurrency": 10,
        "inFlight": 10,
        "orgLimit": 10,
        "orgInFlight": 10,
        "available": 0,
    },
    "callingWindow": {
        "window": WINDOW,
        "zones": [
            {
                "timeZones": ["America/New_York"],
                "waiting": 200,
                "open": True,
                "closesAt": "2030-01-16T01:00:00.000Z",
            },
            {
                "timeZones": ["America/Los_Angeles"],
                "waiting": 500,
                "open": False,
                "opensAt": "2030-01-15T17:00:00.000Z",
            },
        ],
    },
    "blockedBy": [
        {
            "reason": "outside-calling-hours",
            "message": "500 calls are outside calling hours until 2030-01-15T17:00:00.000Z "
            "(the first).",
            "until": "2030-01-15T17:00:00.000Z",
            "calls": 500,
        },
        {
            "reason": "campaign-concurrency-limit",
            "message": "maxConcurrency 10/10 in use; 180 calls wait for a slot.",
            "calls": 180,
        },
    ],
}


def _page(results: list[dict[str, Any]], sort_order: str) -> dict[str, Any]:
    return {
        "results": results,
        "metadata": {
            "itemsPerPage": 100,
            "totalItems": len(results),
            "currentPage": 1,
            "totalPages": 1,
            "hasNextPage": False,
            "sortOrder": sort_order,
        },
    }


# Extension: a campaign's events and their delivery, newest first.
DELIVERIES = [
    {
        "id": "5f0c6a1e-7d2b-4c89-9a51-2e3f4b5c6d7e",
        "type": "contact.completed",
        "state": "pending",
        "attempts": 2,
        "lastStatusCode": 503,
        "lastError": "HTTP 503",
        "nextAttemptAt": "2026-06-02T15:04:09.000Z",
        "createdAt": "2026-06-02T15:04:05.000Z",
    },
    {
        "id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
        "type": "contact.dispatched",
        "state": "dead",
        "attempts": 9,
        "lastError": "no answer within 20 s",
        "createdAt": "2026-06-02T14:03:00.000Z",
    },
    {
        "id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a",
        "type": "campaign.started",
        "state": "delivered",
        "attempts": 1,
        "lastStatusCode": 200,
        "deliveredAt": "2026-06-02T14:00:00.000Z",
        "createdAt": "2026-06-02T14:00:00.000Z",
    },
]


def _examples(**named: tuple[str, Any]) -> dict[str, Any]:
    return {key: {"summary": summary, "value": value} for key, (summary, value) in named.items()}


# Keyed by (method, path below the /campaigns or /campaign prefix).
SUCCESS_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", ""): _examples(created=("Created, waiting for its start time", CAMPAIGN_SCHEDULED)),
    ("get", ""): _examples(page=("One page of campaigns", _page([CAMPAIGN_RUNNING], "DESC"))),
    ("get", "/{id}"): _examples(running=("A running campaign", CAMPAIGN_RUNNING)),
    ("patch", "/{id}"): _examples(ended=("Ended by the user", CAMPAIGN_ENDED)),
    ("delete", "/{id}"): _examples(archived=("Archived (ended first)", CAMPAIGN_ENDED)),
    ("get", "/{id}/calls"): _examples(
        page=("One page of calls", _page([CALL_ENDED, CALL_IN_PROGRESS], "ASC"))
    ),
    ("get", "/{id}/calls/{callId}"): _examples(ended=("An ended call", CALL_ENDED)),
    ("get", "/{id}/events"): _examples(
        history=("Created, started, ended by the user", _page(HISTORY, "ASC"))
    ),
    ("post", "/{id}/pause"): _examples(paused=("Paused (by the breaker here)", CAMPAIGN_PAUSED)),
    ("post", "/{id}/resume"): _examples(resumed=("Resumed", CAMPAIGN_RESUMED)),
    ("get", "/{id}/progress"): _examples(
        progress=("Some contacts wait for their morning, the rest for a slot", PROGRESS)
    ),
    ("get", "/{id}/deliveries"): _examples(
        deliveries=("One event delivered, one failing, one dead", {"results": DELIVERIES})
    ),
}


def _error(status: int, phrase: str, message: str | list[str]) -> dict[str, Any]:
    return {"message": message, "error": phrase, "statusCode": status}


ERROR_EXAMPLES: dict[str, dict[str, Any]] = {
    "400": _examples(
        validation=(
            "Invalid body",
            _error(
                400,
                "Bad Request",
                [
                    "customers.0.number must be a valid E.164 phone number such as +14155551234 "
                    "(set numberE164CheckEnabled to false to allow other formats)",
                    "property foo should not exist",
                ],
            ),
        ),
    ),
    "401": _examples(
        missing=("No key", _error(401, "Unauthorized", MISSING_KEY)),
        invalid=("Unknown or revoked key", _error(401, "Unauthorized", INVALID_KEY)),
    ),
    "404": _examples(
        missing=(
            "Unknown or foreign campaign",
            _error(404, "Not Found", f"campaign {CAMPAIGN_ID} not found"),
        ),
    ),
    "413": _examples(
        too_large=(
            "Body over the size limit",
            _error(413, "Request Entity Too Large", "request body is larger than 33554432 bytes"),
        ),
    ),
}
