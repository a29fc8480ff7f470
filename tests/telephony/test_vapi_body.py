"""The POST /call body built from the engine's PlaceCallRequest."""

from __future__ import annotations

import uuid

from campaign_service.telephony.base import PlaceCallRequest
from campaign_service.telephony.vapi_body import build_call_body

CALL = uuid.UUID("00000000-0000-4000-8000-000000000001")
CAMPAIGN = uuid.UUID("00000000-0000-4000-8000-000000000002")


def place(**overrides: object) -> PlaceCallRequest:
    values: dict[str, object] = {
        "idempotency_key": str(CALL),
        "call_id": CALL,
        "campaign_id": CAMPAIGN,
        "org_id": uuid.uuid4(),
        "phone_number_id": "pn_1",
        "customer": {
            "number": "+14155550100",
            "name": "Ada",
            "externalId": "crm-1",
            "email": None,
            "numberE164CheckEnabled": True,
            # Already merged into the request's overrides: not sent again.
            "assistantOverrides": {"variableValues": {"x": 1}},
        },
        "assistant_id": "asst_1",
        "assistant_overrides": {
            "variableValues": {"x": 1},
            "metadata": {"crm": "hub", "callId": "theirs", "campaignId": "theirs"},
        },
    }
    values.update(overrides)
    return PlaceCallRequest(**values)  # type: ignore[arg-type]


def test_body_with_our_tag():
    request = place()
    body = build_call_body(request)
    assert body == {
        "phoneNumberId": "pn_1",
        "assistantId": "asst_1",
        "customer": {
            "number": "+14155550100",
            "name": "Ada",
            "externalId": "crm-1",
            "numberE164CheckEnabled": True,
        },
        "assistantOverrides": {
            "variableValues": {"x": 1},
            "metadata": {"crm": "hub", "callId": str(CALL), "campaignId": str(CAMPAIGN)},
        },
    }
    # The request itself is left untouched.
    assert request.assistant_overrides["metadata"]["callId"] == "theirs"


def test_squad_calls_and_server_url():
    body = build_call_body(
        place(
            assistant_id=None,
            squad_id="squad_1",
            squad_overrides={"variableValues": {"y": 2}},
            assistant_overrides={"server": {"url": "https://theirs", "timeoutSeconds": 5}},
        ),
        server_url="https://ours/webhooks/vapi/token",
    )
    assert "assistantId" not in body
    assert body["squadId"] == "squad_1"
    assert body["squadOverrides"] == {"variableValues": {"y": 2}}
    assert body["assistantOverrides"]["server"] == {
        "url": "https://ours/webhooks/vapi/token",
        "timeoutSeconds": 5,
    }
    assert body["assistantOverrides"]["metadata"] == {
        "callId": str(CALL),
        "campaignId": str(CAMPAIGN),
    }
