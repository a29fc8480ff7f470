"""Mapping Vapi's calls and server messages to status reports, on bodies the fake produced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from campaign_service.telephony.base import PlaceCallRequest
from campaign_service.telephony.vapi_body import build_call_body
from campaign_service.telephony.vapi_reports import (
    UNKNOWN_ENDED_REASON,
    UNKNOWN_START_ERROR,
    known_ended_reason,
    report_from_call,
    report_from_server_message,
    verify_webhook_secret,
)
from tests.fakevapi.helpers import HEADERS, wait_until

CALL = uuid.uuid4()
CAMPAIGN = uuid.uuid4()


def place(url: str) -> str:
    request = PlaceCallRequest(
        idempotency_key="k",
        call_id=CALL,
        campaign_id=CAMPAIGN,
        org_id=uuid.uuid4(),
        phone_number_id="pn_1",
        customer={"number": "+14155551000"},
        assistant_id="asst_1",
    )
    created = httpx.post(f"{url}/call", json=build_call_body(request), headers=HEADERS)
    assert created.status_code == 201
    call_id: str = created.json()["id"]
    return call_id


def test_reports_from_the_fakes_server_messages(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"voicemail": 1})
    vapi_id = place(vapi.url)
    wait_until(lambda: len(inbox.received) == 5)
    envelopes = [body for _, body in inbox.received]
    reports = [report_from_server_message(e) for e in envelopes]
    assert all(r is not None for r in reports)
    assert [(r.source, r.status) for r in reports] == [
        ("status-update", "queued"),
        ("status-update", "ringing"),
        ("status-update", "in-progress"),
        ("status-update", "ended"),
        ("end-of-call-report", "ended"),
    ]
    for report in reports:
        assert report.vapi_call_id == vapi_id
        assert report.call_id == CALL
        assert report.campaign_id == CAMPAIGN
        assert report.occurred_at is not None
    assert [r.end is None for r in reports] == [True, True, True, False, False]
    final = reports[4]
    assert final.ended_reason == final.vapi_ended_reason == "voicemail"
    assert final.end.started_at <= final.end.ended_at
    assert final.end.cost > 0
    assert final.end.summary == final.end.analysis["summary"]
    assert final.end.recording_url.endswith(f"{vapi_id}.wav")
    # The bare message (without its envelope) maps the same way.
    assert report_from_server_message(envelopes[4]["message"]) == final

    call = httpx.get(f"{vapi.url}/call/{vapi_id}", headers=HEADERS).json()
    from_call = report_from_call(call)
    assert from_call.source == "call"
    assert from_call.status == "ended"
    assert from_call.end.recording_url == final.end.recording_url
    assert from_call.call_id == CALL


def test_reports_from_a_queued_call(start_fake):
    vapi = start_fake()
    created = httpx.post(
        f"{vapi.url}/call",
        json={"assistantId": "a", "phoneNumberId": "p", "customer": {"number": "+14155551001"}},
        headers=HEADERS,
    ).json()
    report = report_from_call(created)
    assert report.status == "queued"
    assert report.call_id is None  # not placed by us: no tag
    assert report.ended_reason is None
    assert report.end is None


def call(**fields: Any) -> dict[str, Any]:
    return {
        "id": "v1",
        "orgId": "o",
        "createdAt": "2026-06-01T12:00:00.000Z",
        "updatedAt": "2026-06-01T12:00:05.000Z",
        "assistantOverrides": {"metadata": {"callId": str(CALL), "campaignId": "not-a-uuid"}},
        **fields,
    }


def test_documented_mappings():
    gone = report_from_call(call(status="not-found"))
    assert (gone.status, gone.ended_reason) == ("ended", "call-deleted")
    assert gone.campaign_id is None  # a tag that is not an ID is ignored
    assert gone.occurred_at == datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
    assert report_from_call(call(status="deletion-failed")) is None
    assert report_from_call(call(status="teleported")) is None
    assert report_from_call(call(status="queued", id=None)) is None

    odd = report_from_call(call(status="ended", endedReason="call.start.error-brand-new"))
    assert odd.ended_reason == UNKNOWN_START_ERROR
    assert odd.vapi_ended_reason == "call.start.error-brand-new"
    assert known_ended_reason("some-new-reason") == UNKNOWN_ENDED_REASON
    assert known_ended_reason(None) == UNKNOWN_ENDED_REASON
    assert known_ended_reason("customer-busy") == "customer-busy"

    update = {"message": {"type": "status-update", "status": "ringing", "call": call()}}
    assert report_from_server_message(update).occurred_at == datetime(
        2026, 6, 1, 12, 0, 5, tzinfo=UTC
    )
    update["message"]["timestamp"] = 1780315200000
    assert report_from_server_message(update).occurred_at == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for other in (
        {"message": {"type": "transcript", "call": call()}},
        {"message": {"type": "status-update", "status": "ringing"}},
        {"message": "nonsense"},
    ):
        assert report_from_server_message(other) is None


@pytest.mark.parametrize(
    ("headers", "expected", "ok"),
    [
        ({"X-Vapi-Secret": "s3"}, "s3", True),
        ({"x-vapi-secret": "s3"}, "s3", True),
        ({"x-vapi-secret": "s4"}, "s3", False),
        ({"x-vapi-secret": "s3"}, "", False),
        ({}, "s3", False),
    ],
)
def test_verify_webhook_secret(headers, expected, ok):
    assert verify_webhook_secret(headers, expected) is ok
