"""Real calls through Vapi: the `TelephonyProvider` on top of `VapiClient`.

Vapi's `POST /call` takes no idempotency key, so "never dial twice" rests on a lookup: when
the call's previous attempt has an unknown outcome (`request.previous_attempt_at` is set: a
dispatcher died mid-dial, or Vapi timed out or failed with a 5xx), the call is first looked for
at Vapi (`GET /call` by phone number and creation time, matched on the call ID tag), and the
call found is adopted. Only when Vapi answers and the call is not there is it placed again; a
lookup that fails raises `OutcomeUnknown` (nothing is dialed; the engine keeps the lease and
asks again later).

Vapi tells what happens to its calls by server messages (the webhook route) and by
`GET /call/{id}` (`poll_call`, used by the reconciler); both become `StatusReport`s here.
This module touches no table: the org's key comes from the `credentials` callable.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from campaign_service.calls.status import CallStatus
from campaign_service.settings import Settings
from campaign_service.telephony import vapi_client as api
from campaign_service.telephony.base import (
    CallRejected,
    NoCapacity,
    OutcomeUnknown,
    PlaceCallRequest,
    ProviderAuthFailed,
    StatusReport,
    StatusReportSink,
)
from campaign_service.telephony.vapi_body import build_call_body
from campaign_service.telephony.vapi_reports import VapiReport, report_from_call
from campaign_service.timeutil import Clock, utcnow

log = logging.getLogger(__name__)

# The endedReason of a call Vapi no longer knows (GET /call/{id} answers 404).
GONE = "call-deleted"


@dataclass(frozen=True)
class OrgVapi:
    """What placing a call for one org needs: its key (never logged), Vapi's base URL and the
    org's webhook token (for the server URL each call carries, when one is configured)."""

    api_key: str
    base_url: str
    webhook_token: str | None = None

    @property
    def key_digest(self) -> str:
        return hashlib.sha256(self.api_key.encode()).hexdigest()

    def __repr__(self) -> str:  # never print the key by accident
        return f"OrgVapi(key=<{self.key_digest[:8]}>, base_url={self.base_url!r})"


Credentials = Callable[[uuid.UUID], Awaitable[OrgVapi]]


def end_report(report: VapiReport) -> dict[str, Any] | None:
    """The end-of-call report's useful fields, as shown on the call (Vapi's names)."""
    end = report.end
    if end is None:
        return None
    fields = {
        "startedAt": end.started_at.isoformat() if end.started_at else None,
        "endedAt": end.ended_at.isoformat() if end.ended_at else None,
        "cost": end.cost,
        "summary": end.summary,
        "analysis": end.analysis,
        "recordingUrl": end.recording_url,
        "endedReason": report.vapi_ended_reason,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    return fields or None


def status_report(call_id: uuid.UUID, report: VapiReport) -> StatusReport:
    """The engine's report for what Vapi said about our call `call_id`."""
    ended = report.status is CallStatus.ENDED
    return StatusReport(
        call_id=call_id,
        status=report.status,
        ended_reason=report.ended_reason if ended else None,
        provider_call_id=report.vapi_call_id,
        occurred_at=report.occurred_at,
        cost=report.end.cost if report.end is not None else None,
        end_report=end_report(report),
        heard=True,
    )


class VapiProvider:
    """Places calls at Vapi for any number of orgs (one HTTP client per org key)."""

    name = "vapi"

    def __init__(
        self, *, settings: Settings, credentials: Credentials, clock: Clock = utcnow
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._clock = clock
        self._clients: dict[tuple[str, str], api.VapiClient] = {}

    def client(self, org: OrgVapi) -> api.VapiClient:
        """The org key's client (its own connection pool and rate limit)."""
        slot = (org.key_digest, org.base_url)
        client = self._clients.get(slot)
        if client is None:
            client = api.VapiClient.from_settings(self.settings)
            client.base_url = org.base_url.rstrip("/")
            self._clients[slot] = client
        return client

    async def forget(self, org: OrgVapi) -> None:
        """Close the client of a key that is no longer used."""
        client = self._clients.pop((org.key_digest, org.base_url), None)
        if client is not None:
            await client.aclose()

    async def start(self, sink: StatusReportSink) -> None:
        return None

    async def stop(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _server_url(self, org: OrgVapi) -> str | None:
        base = self.settings.vapi_webhook_base_url
        if not base or not org.webhook_token:
            return None
        return f"{base.rstrip('/')}/webhooks/vapi/{org.webhook_token}"

    async def place_call(self, request: PlaceCallRequest) -> str:
        org = await self._credentials(request.org_id)
        if request.previous_attempt_at is not None:
            found = await self._look_up(org, request)
            if found is not None:
                log.info("call %s: adopting Vapi call %s", request.call_id, found)
                return found
        body = build_call_body(request, server_url=self._server_url(org))
        result = await self.client(org).create_call(org.api_key, body, base_url=org.base_url)
        if isinstance(result, api.Created):
            return result.call.id
        if isinstance(result, api.NoCapacity):
            raise NoCapacity("Vapi has no capacity", retry_after=result.retry_after)
        if isinstance(result, api.Rejected):
            raise CallRejected(result.ended_reason, result.message)
        if isinstance(result, api.AuthFailed):
            raise ProviderAuthFailed(f"Vapi refused the org's API key: {result.message}")
        raise OutcomeUnknown(f"placing call {request.call_id}: {result.reason}")

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        if request.previous_attempt_at is None:
            return None  # no earlier attempt can have placed it
        org = await self._credentials(request.org_id)
        return await self._look_up(org, request)

    def in_flight_until(self, attempt_at: datetime) -> datetime:
        """Until when an attempt started at `attempt_at` may still be creating its call at
        Vapi: its connect and read timeouts (a dispatcher that died mid-request no longer
        gives up, but Vapi still finishes it), plus a margin for Vapi's own processing."""
        settings = self.settings
        return attempt_at + timedelta(
            seconds=settings.vapi_connect_timeout
            + settings.vapi_read_timeout
            + settings.vapi_in_flight_margin_seconds
        )

    async def _look_up(self, org: OrgVapi, request: PlaceCallRequest) -> str | None:
        assert request.previous_attempt_at is not None
        # A lookup made while the earlier request may still be creating the call would not
        # see it, and the call would be placed twice: wait (the call keeps its lease).
        settled = self.in_flight_until(request.previous_attempt_at)
        if self._clock() < settled:
            raise OutcomeUnknown(
                f"call {request.call_id}: its previous attempt may still be in flight until "
                f"{settled.isoformat()}; looked up after that"
            )
        result = await self.client(org).find_call(
            org.api_key,
            phone_number_id=request.phone_number_id,
            customer_number=request.customer.get("number"),
            created_after=request.previous_attempt_at,
            call_id_tag=str(request.call_id),
            base_url=org.base_url,
        )
        if isinstance(result, api.Found):
            return result.call.id
        if isinstance(result, api.Absent):
            return None
        if isinstance(result, api.AuthFailed):
            raise ProviderAuthFailed(f"Vapi refused the org's API key: {result.message}")
        raise OutcomeUnknown(f"looking up call {request.call_id}: {result.reason}")

    async def poll_call(
        self, org_id: uuid.UUID, call_id: uuid.UUID, provider_call_id: str
    ) -> StatusReport | None:
        """What Vapi says now about one placed call (None when it cannot say)."""
        org = await self._credentials(org_id)
        result = await self.client(org).get_call(
            org.api_key, provider_call_id, base_url=org.base_url
        )
        if isinstance(result, api.Absent):
            return StatusReport(
                call_id,
                CallStatus.ENDED,
                ended_reason=GONE,
                provider_call_id=provider_call_id,
                heard=True,
            )
        if not isinstance(result, api.Found):
            log.info("polling call %s: no answer from Vapi (%s)", call_id, type(result).__name__)
            return None
        report = report_from_call(result.call.body)
        return None if report is None else status_report(call_id, report)
