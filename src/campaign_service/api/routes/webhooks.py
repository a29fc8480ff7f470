"""Extension endpoint: Vapi's server messages (`POST /webhooks/vapi/{token}`).

Point a Vapi org's or phone number's server URL at `<this service>/webhooks/vapi/<token>`
(the token is the org's, shown by `campaign-service org show`). The token names and
authenticates the org; an unknown token is refused (401) and nothing is written. When the
service is configured with a shared secret (`CAMPAIGN_SERVICE_VAPI_WEBHOOK_SECRET`, set as the
secret of Vapi's server credential), messages must also carry it in `X-Vapi-Secret`.
`status-update` and `end-of-call-report` update the org's calls; other messages get 200 and
change nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from pydantic import Field

from campaign_service.api.deps import AppSettings, Now, Session
from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.calls.webhooks import apply_server_message
from campaign_service.errors import BadRequest, Unauthorized
from campaign_service.orgs import repository as orgs
from campaign_service.schema_types import OutputModel
from campaign_service.telephony.vapi_reports import verify_webhook_secret

TAG = "Webhooks (extension)"
UNKNOWN_TOKEN = "Unknown webhook token: use the path `org show` gives for the org."
BAD_SECRET = "Missing or wrong X-Vapi-Secret for this service's Vapi server credential."
router = APIRouter(prefix="/webhooks", tags=[TAG], route_class=StrictJsonRoute)


class WebhookReceived(OutputModel):
    received: bool = Field(description="Always true: the message was accepted.")
    applied: bool = Field(
        description="Whether it changed a call of the org (false for other message types, "
        "repeats, late messages and calls the org does not have)."
    )


@router.post(
    "/vapi/{token}",
    response_model=WebhookReceived,
    summary="Receive Vapi server messages (extension)",
    responses={k: v for k, v in ERROR_RESPONSES.items() if k in (400, 401)},
)
async def vapi_server_message(
    token: Annotated[str, Path(max_length=64, description="The org's webhook token.")],
    request: Request,
    session: Session,
    settings: AppSettings,
    now: Now,
) -> Any:
    """Extension. Vapi's `status-update` and `end-of-call-report` messages for the org's
    calls, matched by Vapi's call ID within the org. Repeated or late messages change
    nothing; other message types are accepted and ignored."""
    org = await orgs.org_by_webhook_token(session, token)
    if org is None:
        raise Unauthorized(UNKNOWN_TOKEN)
    secret = settings.vapi_webhook_secret
    if secret is not None and not verify_webhook_secret(
        dict(request.headers), secret.get_secret_value()
    ):
        raise Unauthorized(BAD_SECRET)
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object (a Vapi server message)")
    applied = await apply_server_message(session, org_id=org.id, payload=payload, now=now)
    return {"received": True, "applied": applied}
