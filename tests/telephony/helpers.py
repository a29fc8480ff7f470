"""Requests to place a call, for provider tests."""

from __future__ import annotations

import uuid

from campaign_service.telephony.base import PlaceCallRequest


def place_request() -> PlaceCallRequest:
    """A first attempt at a new call of a new campaign, keyed by its own call ID."""
    call_id = uuid.uuid4()
    return PlaceCallRequest(
        idempotency_key=str(call_id),
        call_id=call_id,
        campaign_id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        phone_number_id="pn_1",
        customer={"number": "+14155550100"},
        assistant_id="asst_1",
    )
