"""Every body the fake sends validates against vapi-server-sdk 3.0.0's models (strict pydantic
validation, no property the SDK does not declare, enum values from the SDK's own lists)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError
from vapi.types import Call, ServerMessageEndOfCallReport, ServerMessageStatusUpdate
from vapi.types.call_ended_reason import CallEndedReason
from vapi.types.call_status import CallStatus
from vapi.types.call_type import CallType
from vapi.types.server_message_status_update_status import ServerMessageStatusUpdateStatus

from tests.fakevapi.helpers import (
    HEADERS,
    Inbox,
    call_body,
    literal_values,
    unknown_fields,
    wait_until,
)

STATUSES = literal_values(CallStatus)
REASONS = literal_values(CallEndedReason)
# Vapi returns subscriptionLimits on POST /call (its docs show it) though the SDK's Call lacks it.
POST_EXTRAS = {"subscriptionLimits"}


def reports_in(inbox: Inbox) -> list[dict[str, Any]]:
    return [m for m in inbox.messages() if m["type"] == "end-of-call-report"]


def strict(model: type[BaseModel], data: Any, extras: set[str] | None = None) -> Any:
    parsed = model.model_validate(data)
    assert unknown_fields(parsed) <= (extras or set()), unknown_fields(parsed)
    return parsed


def check_call(data: dict[str, Any], extras: set[str] | None = None) -> Any:
    call = strict(Call, data, extras)
    assert call.status in STATUSES
    assert call.type in literal_values(CallType)
    if call.status == "ended":
        assert call.ended_reason in REASONS
    return call


def test_the_checks_catch_drift():
    """The strict checks are live: a wrong type or an undeclared property fails them."""
    good = {"id": "c", "orgId": "o", "createdAt": "2026-01-01T00:00:00.000Z"}
    with pytest.raises(ValidationError):
        Call.model_validate({**good, "updatedAt": "not a date"})
    with pytest.raises(AssertionError):
        strict(Call, {**good, "updatedAt": "2026-01-01T00:00:00.000Z", "recordingURL": "x"})


def test_call_bodies_validate(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"customer-ended-call": 1})
    created = httpx.post(f"{vapi.url}/call", json=call_body(), headers=HEADERS)
    assert created.status_code == 201
    call = check_call(created.json(), POST_EXTRAS)
    assert call.status == "queued"
    assert call.customer.number == "+14155550100"
    assert call.assistant_overrides.metadata == {
        "campaignId": "camp-1",
        "callId": "call-+14155550100",
    }

    wait_until(lambda: reports_in(inbox))
    ended = httpx.get(f"{vapi.url}/call/{call.id}", headers=HEADERS).json()
    final = check_call(ended)
    assert final.status == "ended"
    assert final.ended_reason == "customer-ended-call"
    assert final.started_at is not None
    assert final.ended_at >= final.started_at
    assert final.artifact.recording_url.endswith(f"/_fake/recordings/{call.id}.wav")
    assert final.analysis.summary
    listed = httpx.get(f"{vapi.url}/call", headers=HEADERS).json()
    assert [check_call(c).id for c in listed] == [call.id]
    recording = httpx.get(final.artifact.recording_url)
    assert recording.status_code == 200
    assert recording.content[:4] == b"RIFF"


def test_server_messages_validate(start_fake, inbox):
    vapi = start_fake(
        server_url=inbox.url,
        outcomes={"voicemail": 1, "customer-busy": 1, "assistant-ended-call": 1},
    )
    for i in range(6):
        created = httpx.post(f"{vapi.url}/call", json=call_body(f"+1415555020{i}"), headers=HEADERS)
        assert created.status_code == 201
    wait_until(lambda: len(reports_in(inbox)) == 6)
    messages = inbox.messages()
    kinds = {(m["type"], m.get("status")) for m in messages}
    assert ("status-update", "queued") in kinds
    assert ("status-update", "ended") in kinds
    for _, envelope in inbox.received:
        assert set(envelope) == {"message"}
    for message in messages:
        if message["type"] == "status-update":
            parsed = strict(ServerMessageStatusUpdate, message)
            assert parsed.status in literal_values(ServerMessageStatusUpdateStatus)
            assert (parsed.ended_reason is not None) == (parsed.status == "ended")
        else:
            parsed = strict(ServerMessageEndOfCallReport, message)
            assert parsed.ended_reason in REASONS
            assert parsed.ended_at is not None
            if parsed.ended_reason != "customer-busy":  # answered: it has a recording
                assert parsed.started_at is not None
                assert parsed.artifact.recording_url
                assert parsed.analysis.summary
                assert parsed.cost > 0
        check_call(message["call"])


def test_blocked_and_error_bodies_validate(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url)
    vapi.fake.inject("concurrency-limit", next=1)
    blocked = httpx.post(f"{vapi.url}/call", json=call_body(), headers=HEADERS)
    assert blocked.status_code == 201
    call = check_call(blocked.json(), POST_EXTRAS)
    assert call.ended_reason == "call.start.error-subscription-concurrency-limit-reached"
    report = wait_until(lambda: reports_in(inbox))
    strict(ServerMessageEndOfCallReport, report[0])

    for answer, status in (
        (httpx.post(f"{vapi.url}/call", json={}, headers=HEADERS), 400),
        (httpx.get(f"{vapi.url}/call/nope", headers=HEADERS), 404),
        (httpx.get(f"{vapi.url}/call", headers={"Authorization": "Bearer wrong"}), 401),
    ):
        assert answer.status_code == status
        assert set(answer.json()) == {"message", "error", "statusCode"}
        assert answer.json()["statusCode"] == status
