"""The pre-dial check: the user's server says, right before each dial, whether a contact may be
called (`predialPlan`, Vapi's `campaign.predial` server message).

A campaign with `server` and `predialPlan` (enabled unless `enabled: false`) has every contact
checked: `{"eligible": true}` dials, `{"eligible": false}` skips it, and anything else (a
timeout, a refused connection, a non-2xx answer, bad JSON, a missing or non-boolean
`eligible`) is a pre-dial failure. It fails closed: only a clear `true` dials.

The checks run with no database transaction open, while the calls hold their lease (their
claim and concurrency slot), concurrently but bounded. The wait is the campaign's
`server.timeoutSeconds` (default 20), capped below the lease so a slow server can never let
another dispatcher recover the call while its check is still running.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any

import orjson

from campaign_service.calls.repository import ClaimedCall
from campaign_service.calls.status import SkipReason
from campaign_service.dispatcher.webhook_http import PostFailed, WebhookClient
from campaign_service.timeutil import Clock

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 20.0


class NotChecked(Enum):
    """A call whose check could not start in time: it is given back and tried again later."""

    NOT_CHECKED = "not-checked"


NOT_CHECKED = NotChecked.NOT_CHECKED


def wants_check(extra_config: dict[str, Any]) -> bool:
    """Whether a campaign's calls are checked before their dial."""
    plan = extra_config.get("predialPlan")
    server = extra_config.get("server")
    if not isinstance(plan, dict) or not isinstance(server, dict) or not server.get("url"):
        return False
    return plan.get("enabled") is not False


def contact_of(call: ClaimedCall) -> dict[str, Any]:
    """The contact as the campaign's events and checks describe it."""
    customer = call.customer
    contact: dict[str, Any] = {"id": str(call.call_id), "attempt": call.attempts}
    for key in ("number", "sipUri", "name", "email", "externalId"):
        if customer.get(key) is not None:
            contact[key] = customer[key]
    return contact


def message(call: ClaimedCall, *, timestamp_ms: int) -> dict[str, Any]:
    return {
        "message": {
            "type": "campaign.predial",
            "timestamp": timestamp_ms,
            "campaignId": str(call.campaign_id),
            "contact": contact_of(call),
            "customer": call.customer,
            "call": {"id": str(call.call_id)},
        }
    }


def verdict(status: int, content: bytes) -> SkipReason | None:
    """None when the contact may be dialed; otherwise why it is not."""
    if not 200 <= status < 300:
        return SkipReason.PREDIAL_FAILED
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return SkipReason.PREDIAL_FAILED
    eligible = body.get("eligible") if isinstance(body, dict) else None
    if eligible is True:
        return None
    if eligible is False:
        return SkipReason.PREDIAL_INELIGIBLE
    return SkipReason.PREDIAL_FAILED


class PredialChecker:
    """Asks the campaigns' servers about claimed calls; one HTTP client, bounded concurrency."""

    def __init__(self, *, clock: Clock, concurrency: int, max_wait_seconds: float) -> None:
        self.clock = clock
        self.max_wait_seconds = max_wait_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._http = WebhookClient()

    async def close(self) -> None:
        await self._http.close()

    def timeout_for(self, server: dict[str, Any]) -> float:
        wanted = server.get("timeoutSeconds")
        seconds = float(wanted) if isinstance(wanted, int | float) else DEFAULT_TIMEOUT_SECONDS
        return max(0.1, min(seconds, self.max_wait_seconds))

    async def check(self, call: ClaimedCall, *, start_by: float) -> SkipReason | NotChecked | None:
        """The verdict on one call; NOT_CHECKED when no request could start before `start_by`
        (a loop.time(): the calls ahead of it took the concurrency), so its lease cannot run
        out while it waits."""
        server = call.extra_config["server"]
        headers = {str(k): str(v) for k, v in (server.get("headers") or {}).items()}
        headers["content-type"] = "application/json"
        timeout = self.timeout_for(server)
        body = orjson.dumps(message(call, timestamp_ms=int(self.clock().timestamp() * 1000)))
        try:
            async with asyncio.timeout_at(start_by):
                await self._slots.acquire()
        except TimeoutError:
            return NOT_CHECKED
        try:
            try:
                status, content = await self._http.post(
                    str(server["url"]), body, headers, wait_seconds=timeout
                )
            except PostFailed as exc:
                log.info("pre-dial check of call %s failed: %s", call.call_id, exc)
                return SkipReason.PREDIAL_FAILED
        finally:
            self._slots.release()
        return verdict(status, content)

    async def check_all(
        self, calls: Sequence[ClaimedCall]
    ) -> dict[uuid.UUID, SkipReason | NotChecked | None]:
        """Every call's verdict. Requests start within half the wait cap (a quarter of a
        lease) and end within the cap (half a lease): check and dial stay inside the leases."""
        start_by = asyncio.get_running_loop().time() + self.max_wait_seconds / 2
        results = await asyncio.gather(*(self.check(call, start_by=start_by) for call in calls))
        return {call.call_id: result for call, result in zip(calls, results, strict=True)}
