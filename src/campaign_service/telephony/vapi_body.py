"""The POST /call body for one call of a campaign, tagged so the call can be found again."""

from __future__ import annotations

import copy
from typing import Any

from campaign_service.telephony.base import PlaceCallRequest

# The customer fields Vapi's call takes; per-customer overrides are already merged into the
# request's overrides, so they are not sent again inside `customer`.
CUSTOMER_FIELDS = (
    "number",
    "name",
    "extension",
    "sipUri",
    "email",
    "externalId",
    "numberE164CheckEnabled",
)


def build_call_body(request: PlaceCallRequest, *, server_url: str | None = None) -> dict[str, Any]:
    """CreateCallDto for `request`: our campaign and call IDs go in
    `assistantOverrides.metadata` (ours win over the user's on those two keys), and
    `server_url`, when given, becomes `assistantOverrides.server.url`."""
    customer = {
        k: request.customer[k] for k in CUSTOMER_FIELDS if request.customer.get(k) is not None
    }
    body: dict[str, Any] = {"phoneNumberId": request.phone_number_id, "customer": customer}
    for key, value in (
        ("assistantId", request.assistant_id),
        ("workflowId", request.workflow_id),
        ("squadId", request.squad_id),
    ):
        if value:
            body[key] = value
    overrides = copy.deepcopy(request.assistant_overrides)
    metadata = overrides.get("metadata")
    overrides["metadata"] = {
        **(metadata if isinstance(metadata, dict) else {}),
        "campaignId": str(request.campaign_id),
        "callId": str(request.call_id),
    }
    if server_url:
        server = overrides.get("server")
        overrides["server"] = {**(server if isinstance(server, dict) else {}), "url": server_url}
    body["assistantOverrides"] = overrides
    if request.squad_id and request.squad_overrides:
        body["squadOverrides"] = copy.deepcopy(request.squad_overrides)
    return body
