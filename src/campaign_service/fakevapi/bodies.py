"""JSON bodies in Vapi's shapes: the Call, its server messages, errors and subscription limits.

Field names and placement follow vapi-server-sdk 3.0.0's models (`Call`,
`ServerMessageStatusUpdate`, `ServerMessageEndOfCallReport`); a test validates every body kind
against them so the fake cannot drift from the real API.
"""

from __future__ import annotations

import copy
from datetime import datetime
from http import HTTPStatus
from typing import Any

from campaign_service.calls.status import CallStatus
from campaign_service.fakevapi.calls import FakeCall, stages_of
from campaign_service.timeutil import iso_z

# Create-body fields a Call echoes as they were sent.
_ECHOED = ("assistantId", "squadId", "workflowId", "assistantOverrides", "squadOverrides", "name")

_SUMMARIES = {
    "customer-ended-call": "The customer talked with the assistant, then hung up.",
    "assistant-ended-call": "The assistant finished the conversation and ended the call.",
    "voicemail": "The call reached voicemail; the assistant left a message.",
}


def error_body(status: int, message: str | list[str]) -> dict[str, Any]:
    """Vapi's (NestJS) error body."""
    return {"message": message, "error": HTTPStatus(status).phrase, "statusCode": status}


def call_json(call: FakeCall) -> dict[str, Any]:
    """The Call object as GET /call/{id} shows it now."""
    body: dict[str, Any] = {
        "id": call.id,
        "orgId": call.org_id,
        "type": "outboundPhoneCall",
        "status": call.status,
        "createdAt": iso_z(call.created_at),
        "updatedAt": iso_z(call.updated_at),
        "phoneCallProvider": "twilio",
        "phoneCallTransport": "pstn",
        "phoneNumberId": call.request.get("phoneNumberId"),
        "customer": copy.deepcopy(call.customer),
        "cost": call.cost,
    }
    body.update({k: copy.deepcopy(call.request[k]) for k in _ECHOED if k in call.request})
    if call.started_at is not None:
        body["startedAt"] = iso_z(call.started_at)
    if call.status is CallStatus.ENDED:
        body["endedReason"] = call.ended_reason
        body["endedAt"] = iso_z(call.ended_at or call.updated_at)
        body["analysis"] = analysis_of(call)
        body["artifact"] = artifact_of(call)
        if call.blocked:
            body["endedMessage"] = "The org's concurrency limit was reached; the call never rang."
    return body


def answered(call: FakeCall) -> bool:
    return call.ended_reason is not None and stages_of(call.ended_reason) == "answered"


def analysis_of(call: FakeCall) -> dict[str, Any]:
    if call.blocked or not answered(call):
        return {}
    reason = call.ended_reason or ""
    summary = _SUMMARIES.get(reason, f"The call was answered and ended ({reason}).")
    success = reason in ("customer-ended-call", "assistant-ended-call")
    return {"summary": summary, "successEvaluation": "true" if success else "false"}


def artifact_of(call: FakeCall) -> dict[str, Any]:
    if call.blocked or not answered(call):
        return {"messages": []}
    if call.ended_reason == "voicemail":
        transcript = "AI: Hello, sorry to miss you. We will try again later."
    else:
        transcript = "AI: Hello, do you have a minute?\nUser: Sure, go ahead."
    return {
        "messages": [],
        "transcript": transcript,
        "recordingUrl": f"{call.base_url}/_fake/recordings/{call.id}.wav",
    }


def status_update(call: FakeCall, now: datetime) -> dict[str, Any]:
    """The `status-update` server message for the call's current status."""
    message: dict[str, Any] = {
        "type": "status-update",
        "status": call.status,
        "timestamp": _millis(now),
        "call": call_json(call),
        "customer": copy.deepcopy(call.customer),
    }
    if call.status is CallStatus.ENDED:
        message["endedReason"] = call.ended_reason
    return {"message": message}


def end_of_call_report(call: FakeCall, now: datetime) -> dict[str, Any]:
    """The `end-of-call-report` server message, sent once the call has ended."""
    message: dict[str, Any] = {
        "type": "end-of-call-report",
        "endedReason": call.ended_reason,
        "timestamp": _millis(now),
        "cost": call.cost,
        "endedAt": iso_z(call.ended_at or now),
        "artifact": artifact_of(call),
        "analysis": analysis_of(call),
        "call": call_json(call),
        "customer": copy.deepcopy(call.customer),
    }
    if call.started_at is not None:
        message["startedAt"] = iso_z(call.started_at)
    return {"message": message}


def _millis(moment: datetime) -> float:
    return float(round(moment.timestamp() * 1000))
